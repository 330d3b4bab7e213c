// FaceAppearance on real faces: the same person under another scale, position, tilt and exposure is
// closer than `FaceSettings.Linking.maxAppearanceDistance`; two different people are farther.
// astronaut.png (Eileen Collins) and grace_hopper.jpg (Grace Hopper), both public domain.
import FaceFXGPU
import XCTest
@testable import FaceFXFace

final class AppearanceTests: XCTestCase {
    func appearance(_ image: String, filter: String, analyzer: FaceAnalyzer) throws -> FaceAppearance {
        let img = try GPUTestSupport.rgba([GPUTestSupport.sample(image)], filter: filter, width: 640, height: 480)
        analyzer.reset()
        let faces = try analyzer.analyze(frameTexture: try GPUTestSupport.frameTexture(img), width: 640, height: 480,
                                         frameIndex: 0, time: 0)
        XCTAssertEqual(faces.count, 1, "\(image) \(filter)")
        return try XCTUnwrap(faces.first?.appearance)
    }

    func testSamePersonCloseOtherPersonFar() throws {
        let analyzer = try GPUTestSupport.analyzer()
        let pad = "pad=640:480:(ow-iw)/2:(oh-ih)/2:color=0x405060"
        let astronaut = [
            try appearance("astronaut.png", filter: "[0]scale=400:400,\(pad)", analyzer: analyzer),
            try appearance("astronaut.png", filter: "[0]scale=300:300,rotate=0.2:fillcolor=0x405060,pad=640:480:40:100:color=0x203040", analyzer: analyzer),
            try appearance("astronaut.png", filter: "[0]scale=460:460,eq=brightness=0.1:contrast=1.2,\(pad)", analyzer: analyzer),
        ]
        let hopper = [
            try appearance("grace_hopper.jpg", filter: "[0]scale=340:400,\(pad)", analyzer: analyzer),
            try appearance("grace_hopper.jpg", filter: "[0]scale=260:306,eq=brightness=-0.08,rotate=-0.15:fillcolor=0x405060,pad=640:480:300:60:color=0x605040", analyzer: analyzer),
        ]
        let limit = FaceSettings.Linking().maxAppearanceDistance
        var same: [Double] = [], other: [Double] = []
        for group in [astronaut, hopper] {
            for i in group.indices { for j in group.indices where j > i { same.append(FaceAppearance.distance(group[i], group[j])) } }
        }
        for a in astronaut { for h in hopper { other.append(FaceAppearance.distance(a, h)) } }
        print("appearance distance: same person \(same.map { String(format: "%.2f", $0) }), different people \(other.map { String(format: "%.2f", $0) }); limit \(limit)")
        for a in astronaut + hopper {
            print("  shape-only vs colour-only parts: \(String(format: "%.3f", FaceLandmarks.descriptorDistance(a.shape, astronaut[0].shape)))")
        }
        XCTAssertLessThan(same.max()!, limit)
        XCTAssertGreaterThan(other.min()!, limit)
    }
}
