import XCTest
final class FaceFXNeuralTestsPlaceholder: XCTestCase { func testBuilds() {} }
