// The occluder's outer boundary loop comes out the same whatever the order of the mesh's triangles and
// corners, in one canonical form: its direction had followed a dictionary's iteration order, which Swift
// seeds per process, so a mask render differed by a pixel at an eye hole from one run to the next.
import XCTest
@testable import FaceFXOverlay

final class OcclusionMeshTests: XCTestCase {
    func testOuterBoundaryIsCanonical() throws {
        let triangles = Fixture.model.triangles
        let loop = OverlayRenderer.outerBoundary(triangles)
        XCTAssertGreaterThan(loop.count, 30, "the face mesh's rim")
        XCTAssertEqual(loop.first, loop.min())
        XCTAssertLessThan(loop[1], loop.last!, "toward the smaller neighbour")
        XCTAssertEqual(Set(loop).count, loop.count)
        let reordered = triangles.reversed().map { SIMD3($0.y, $0.z, $0.x) }
        XCTAssertEqual(OverlayRenderer.outerBoundary(reordered), loop)
    }
}
