// FaceAppearance on a real face: the same person under another scale, position, tilt and exposure is
// closer than `FaceSettings.Linking.maxAppearanceDistance`; a second look is farther. astronaut.png is
// the only freely licensed real face in the repository that may be used (the other photo samples are
// kept for independent evaluation), so the second look is the same photo mirrored (faces are not
// symmetric) with skin and hair of other hues: a stand-in for another person, not a real one.
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

    /// The stand-in second person (ffmpeg filter): mirrored, hues turned.
    static let otherLook = "hflip,hue=h=-25:s=1.2"

    func testSamePersonCloseOtherLookFar() throws {
        let analyzer = try GPUTestSupport.analyzer()
        let pad = "pad=640:480:(ow-iw)/2:(oh-ih)/2:color=0x405060"
        let astronaut = [
            try appearance("astronaut.png", filter: "[0]scale=400:400,\(pad)", analyzer: analyzer),
            try appearance("astronaut.png", filter: "[0]scale=300:300,rotate=0.2:fillcolor=0x405060,pad=640:480:40:100:color=0x203040", analyzer: analyzer),
            try appearance("astronaut.png", filter: "[0]scale=460:460,eq=brightness=0.1:contrast=1.2,\(pad)", analyzer: analyzer),
        ]
        let other = [
            try appearance("astronaut.png", filter: "[0]\(Self.otherLook),scale=380:380,\(pad)", analyzer: analyzer),
            try appearance("astronaut.png", filter: "[0]\(Self.otherLook),scale=300:300,eq=brightness=-0.06,rotate=-0.12:fillcolor=0x405060,pad=640:480:40:100:color=0x605040", analyzer: analyzer),
        ]
        let limit = FaceSettings.Linking().maxAppearanceDistance
        var same: [Double] = [], otherDistances: [Double] = []
        for group in [astronaut, other] {
            for i in group.indices { for j in group.indices where j > i { same.append(FaceAppearance.distance(group[i], group[j])) } }
        }
        for a in astronaut { for h in other { otherDistances.append(FaceAppearance.distance(a, h)) } }
        print("appearance distance: same person \(same.map { String(format: "%.2f", $0) }), other look \(otherDistances.map { String(format: "%.2f", $0) }); limit \(limit)")
        for a in astronaut + other {
            print("  shape-only vs colour-only parts: \(String(format: "%.3f", FaceLandmarks.descriptorDistance(a.shape, astronaut[0].shape)))")
        }
        XCTAssertLessThan(same.max()!, limit)
        XCTAssertGreaterThan(otherDistances.min()!, limit)
    }
}
