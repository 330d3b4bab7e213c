import XCTest
final class FaceFXGPUTestsPlaceholder: XCTestCase { func testBuilds() {} }
