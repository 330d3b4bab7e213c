// `facefx filters`.
import ArgumentParser
import FaceFXPipeline
import Foundation

struct Filters: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the available filters (name and description), first match of each name wins.")

    @OptionGroup var filterFolders: FilterFolderOptions

    @Flag(name: .long, help: "Also check every filter fully (assets present, inside their folder, decodable).")
    var check = false

    func run() throws {
        let lines = FilterCatalog.listing(folders: filterFolders.folders)
        if lines.isEmpty {
            throw CLIError(message: "no filters found (searched --filters-dir, FACEFX_FILTERS and the built-in Filters/)", exitCode: 1)
        }
        lines.forEach { print($0) }
        if check {
            try FilterCatalog.checkAll(folders: filterFolders.folders)
        }
    }
}
