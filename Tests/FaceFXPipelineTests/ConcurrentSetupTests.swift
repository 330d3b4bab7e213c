// `concurrently`: a job's independent set-up steps at once, with the same error whichever finishes first.
import Foundation
import XCTest
@testable import FaceFXPipeline

final class ConcurrentSetupTests: XCTestCase {
    private struct Failure: Error, Equatable { var step: String }

    func testBothResultsAndTheFirstStepsErrorFirst() throws {
        let (a, b) = try concurrently("test", { 1 }, { "two" })
        XCTAssertEqual(a, 1)
        XCTAssertEqual(b, "two")
        // The first step fails late, the second early: the first step's error is the one reported.
        XCTAssertThrowsError(try concurrently("test", { () throws -> Int in Thread.sleep(forTimeInterval: 0.05); throw Failure(step: "first") },
                                              { () throws -> Int in throw Failure(step: "second") })) {
            XCTAssertEqual($0 as? Failure, Failure(step: "first"))
        }
        XCTAssertThrowsError(try concurrently("test", { 1 }, { () throws -> Int in throw Failure(step: "second") })) {
            XCTAssertEqual($0 as? Failure, Failure(step: "second"))
        }
        // Both ran to the end before it returned (the other step's work is never left running).
        var finished = false
        XCTAssertThrowsError(try concurrently("test", { () throws -> Int in Thread.sleep(forTimeInterval: 0.05); finished = true; return 1 },
                                              { () throws -> Int in throw Failure(step: "second") }))
        XCTAssertTrue(finished)
    }
}
