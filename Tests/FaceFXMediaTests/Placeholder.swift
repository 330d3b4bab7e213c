import XCTest
final class FaceFXMediaTestsPlaceholder: XCTestCase { func testBuilds() {} }
