@testable import FaceFXPipeline
import Foundation
import XCTest

/// Batch planning without rendering: shard arithmetic and environment parsing, CSV fields.
final class BatchPlanTests: XCTestCase {
    func shard(_ arg: String, _ env: [String: String] = [:]) throws -> String {
        try BatchShard.parse(arg, environment: env).description
    }

    func testExplicitShardsAreOneBased() throws {
        XCTAssertEqual(try shard("1/3"), "1/3")
        XCTAssertEqual(try shard("3/3"), "3/3")
        XCTAssertEqual(try shard("1/1"), "1/1")
        for bad in ["0/3", "4/3", "1/0", "-1/3", "2", "a/b", "1/3/4", "", "auto/x", "auto/0"] {
            XCTAssertThrowsError(try shard(bad), bad) { XCTAssertTrue(($0 as? PipelineError)?.isUsage ?? false) }
        }
    }

    func testAutoShardFromSlurm() throws {
        XCTAssertEqual(try shard("auto", ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"]), "1/4")
        XCTAssertEqual(try shard("auto", ["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0"]), "1/4")
        XCTAssertEqual(try shard("auto", ["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0"]), "4/4")
        // --array=10-16:2 → ids 10,12,14,16
        XCTAssertEqual(try shard("auto", ["SLURM_ARRAY_TASK_ID": "14", "SLURM_ARRAY_TASK_COUNT": "4",
                                          "SLURM_ARRAY_TASK_MIN": "10", "SLURM_ARRAY_TASK_STEP": "2"]), "3/4")
        XCTAssertEqual(try shard("auto/2", ["SLURM_ARRAY_TASK_ID": "2"]), "2/2")
        XCTAssertThrowsError(try shard("auto", ["SLURM_ARRAY_TASK_ID": "2"]), "no count")
        XCTAssertThrowsError(try shard("auto", ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "4"]), "id past the count")
        XCTAssertThrowsError(try shard("auto", ["SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "4"]))
    }

    func testAutoShardFromKubernetes() throws {
        XCTAssertEqual(try shard("auto", ["JOB_COMPLETION_INDEX": "0", "FACEFX_SHARD_COUNT": "3"]), "1/3")
        XCTAssertEqual(try shard("auto", ["JOB_COMPLETION_INDEX": "2", "FACEFX_SHARD_COUNT": "3"]), "3/3")
        XCTAssertEqual(try shard("auto/5", ["JOB_COMPLETION_INDEX": "4"]), "5/5")
        XCTAssertThrowsError(try shard("auto", ["JOB_COMPLETION_INDEX": "0"]), "no count")
        XCTAssertThrowsError(try shard("auto", ["JOB_COMPLETION_INDEX": "3", "FACEFX_SHARD_COUNT": "3"]))
        XCTAssertThrowsError(try shard("auto", [:]), "no scheduler")
    }

    func testShardsPartitionAnyList() throws {
        for count in 1...7 {
            for total in [0, 1, 5, 13, 64] {
                var owners = [Int](repeating: 0, count: total)
                var sizes: [Int] = []
                for k in 1...count {
                    let s = try BatchShard(index: k, count: count)
                    let mine = (0..<total).filter { s.contains(position: $0) }
                    for i in mine { owners[i] += 1 }
                    sizes.append(mine.count)
                }
                XCTAssertEqual(owners, [Int](repeating: 1, count: total), "\(total) items in \(count) shards")
                XCTAssertLessThanOrEqual((sizes.max() ?? 0) - (sizes.min() ?? 0), 1, "balanced")
            }
        }
    }

    func testCSVFields() throws {
        XCTAssertEqual(try BatchPlan.csvFields("a.mp4,b.mp4"), ["a.mp4", "b.mp4"])
        XCTAssertEqual(try BatchPlan.csvFields(" a.mp4 , b.mp4 "), ["a.mp4", "b.mp4"])
        XCTAssertEqual(try BatchPlan.csvFields("a.mp4,"), ["a.mp4", ""])
        XCTAssertEqual(try BatchPlan.csvFields("\"my, clip.mp4\",\"out \"\"x\"\".mp4\""), ["my, clip.mp4", "out \"x\".mp4"])
        XCTAssertThrowsError(try BatchPlan.csvFields("\"open,b"))
    }

    func testFolderScanSkipsHiddenAndNonVideoFiles() throws {
        let dir = try CLI.makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        for rel in ["b.MKV", "a.mp4", "sub/c.webm", "sub/d.avi", "sub/e.m4v", "sub/f.mov", "notes.txt", ".h.mp4",
                    ".git/x.mp4", "sub/.clip.mp4.facefx-12-34.tmp", "sub/clip.mp4.part"] {
            let url = dir.appendingPathComponent(rel)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data().write(to: url)
        }
        XCTAssertEqual(try BatchPlan.videoFiles(in: dir.path),
                       ["a.mp4", "b.MKV", "sub/c.webm", "sub/d.avi", "sub/e.m4v", "sub/f.mov"])
    }
}
