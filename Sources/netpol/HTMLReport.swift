import Foundation
import NetpolEngine
import NetpolModel

/// `-o html` of `matrix` and `diff`: one self-contained page (inline CSS and
/// JavaScript, nothing fetched) that draws the matrix on a canvas, only the
/// visible cells, and explains a clicked cell.
///
/// The page carries no explanation text: with 10,000 pods there are 10^8 cells.
/// It carries the engine's `ReportTables` per side: verdicts per pair of pod
/// classes, and the rule matches (peer sets as bits, port matches per list of
/// container ports) from which its script lays out the text `netpol explain`
/// prints for any cell.
enum HTMLReport {
    /// A page of one snapshot's matrix on `ports`; with audited policies, a
    /// second side `audit` (them enforced), whose differing cells the page marks.
    static func page(comparison: AuditComparison, ports: [(PortProtocol, IntOrString)]) throws -> String {
        let engine = comparison.enforced
        let pods = engine.matrixPods
        let tables = engine.reportTables(ports: ports)
        var sides = [PageData.Side(name: "", positions: Array(pods.indices), tables: tables)]
        if let wouldBe = comparison.wouldBe {
            // The same snapshot: the same pods in the same order.
            sides.append(PageData.Side(name: "audit", positions: Array(pods.indices), tables: wouldBe.reportTables(ports: ports)))
        }
        let data = PageData(
            mode: "matrix", title: "netpol matrix: \(pods.count) pods",
            pods: tables.pods, labels: tables.labels, sides: sides)
        return try render(data)
    }

    /// A page of a diff: the pods on both sides, both sides' verdicts and rules.
    static func page(before: Engine, after: Engine, diff: ConnectivityDiff) throws -> String {
        let ports = diff.ports.map { ($0.protocol, IntOrString.int($0.port)) }
        let old = before.reportTables(ports: ports), new = after.reportTables(ports: ports)
        let newPositions = Dictionary(uniqueKeysWithValues: new.pods.enumerated().map { ($1, $0) })
        // The pods on both sides, in the order of the side before.
        let common = old.pods.enumerated().compactMap { position, pod in newPositions[pod].map { (old: position, new: $0) } }
        let data = PageData(
            mode: "diff",
            title: "netpol diff: \(diff.opened.reduce(0) { $0 + $1.pairCount }) connections opened, "
                + "\(diff.closed.reduce(0) { $0 + $1.pairCount }) closed",
            pods: common.map { old.pods[$0.old] }, labels: common.map { new.labels[$0.new] },
            sides: [
                PageData.Side(name: "Before", positions: common.map(\.old), tables: old),
                PageData.Side(name: "After", positions: common.map(\.new), tables: new),
            ])
        return try render(data)
    }

    /// The matrix ports of a page: the one asked for first, then every declared one.
    static func ports(asked: IntOrString, protocol proto: PortProtocol, engine: Engine) -> [(PortProtocol, IntOrString)] {
        let declared = engine.declaredPorts.map { ($0.protocol, IntOrString.int($0.port)) }
        return [(proto, asked)] + declared.filter { !($0.0 == proto && $0.1 == asked) }
    }

    /// What the page's script reads: the pods of the grid in order, and per side
    /// the position of each grid pod in that side's tables.
    private struct PageData: Encodable {
        struct Side: Encodable {
            var name: String
            var positions: [Int]
            var tables: ReportTables
        }

        var mode: String
        var title: String
        var pods: [String]
        var labels: [String]
        var sides: [Side]
    }

    private static func render(_ data: PageData) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        // `<` is escaped so that no text of the input can close the script element.
        let json = String(decoding: try encoder.encode(data), as: UTF8.self).replacingOccurrences(of: "<", with: "\\u003c")
        return HTMLReportPage.template.replacingOccurrences(of: "/*DATA*/null", with: json)
    }
}
