import Foundation
import Logging
import ArgumentParser
import NetpolModel

/// How the agent's log lines look: `text` for people, `json` for log collectors.
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}

/// One line per event on standard error: `TIME LEVEL message key=value ...`,
/// or one JSON object with the same fields.
struct LineLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level
    let format: LogFormat
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = metadata.merging(event.metadata ?? [:]) { $1 }
        let time = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        let line: String
        switch format {
        case .text:
            let pairs = fields.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quotedIfNeeded("\($0.value)"))" }
            line = ([time, event.level.rawValue.uppercased(), event.message.description] + pairs).joined(separator: " ")
        case .json:
            let pairs = [("time", time), ("level", event.level.rawValue), ("msg", event.message.description), ("logger", label)]
                + fields.sorted { $0.key < $1.key }.map { ($0.key, "\($0.value)") }
            line = "{" + pairs.map { jsonQuoted($0.0) + ":" + jsonQuoted($0.1) }.joined(separator: ",") + "}"
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    private static func quotedIfNeeded(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) || value.isEmpty ? jsonQuoted(value) : value
    }
}
