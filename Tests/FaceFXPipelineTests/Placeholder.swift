import XCTest
final class FaceFXPipelineTestsPlaceholder: XCTestCase { func testBuilds() {} }
