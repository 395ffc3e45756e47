import Foundation

/// An object as the API server sent it: decoded, or why it could not be.
public typealias APIItem = Result<KubeObject, ManifestError>

/// A `GET /api/v1/pods` (or namespaces, networkpolicies) answer.
public struct APIList: Sendable {
    /// Where a watch continues from.
    public var resourceVersion: String
    public var items: [APIItem]
    /// Non-empty when the server sent one page of a longer list.
    public var continueToken: String = ""

    public init(resourceVersion: String, items: [APIItem], continueToken: String = "") {
        self.resourceVersion = resourceVersion
        self.items = items
        self.continueToken = continueToken
    }
}

/// One line of a watch stream.
public enum APIWatchEvent: Sendable {
    case added(APIItem)
    case modified(APIItem)
    case deleted(APIItem)
    /// The watch has reached `resourceVersion`; nothing changed.
    case bookmark(resourceVersion: String)
    /// A `Status` in place of an object; code 410 means the resource version is too old.
    case error(code: Int, message: String)
}

/// Decodes the JSON the Kubernetes API server answers with: lists (whose items
/// carry no `kind`) and watch events. Objects go through the same decoder as
/// manifests, so an object from the API and the same object in a file agree.
public enum APIDecoder {
    /// Decodes a list of `kind` (`Pod`, `Namespace`, `NetworkPolicy`). An item
    /// that does not decode is a failure in `items`; the rest are still read.
    public static func list(_ data: Data, kind: String, apiVersion: String) throws(ManifestError) -> APIList {
        let fields = try rootObject(data)
        let metadata = try fields.field("metadata")?.object()
        let items = try fields.field("items")?.list() ?? []
        return APIList(
            resourceVersion: try metadata?.string("resourceVersion") ?? "",
            items: items.map { item in decodeItem(item, kind: kind, apiVersion: apiVersion) },
            continueToken: try metadata?.string("continue") ?? "")
    }

    /// Decodes one line of a watch stream. Throws when the line is not an event at all.
    public static func watchEvent(_ data: Data) throws(ManifestError) -> APIWatchEvent {
        let fields = try rootObject(data)
        let type = try fields.string("type")
        guard let object = fields.field("object") else {
            throw ManifestError(.decoding, "watch event without an object", path: FieldPath("object"))
        }
        switch type {
        case "ADDED": return .added(decodeItem(object, kind: nil, apiVersion: nil))
        case "MODIFIED": return .modified(decodeItem(object, kind: nil, apiVersion: nil))
        case "DELETED": return .deleted(decodeItem(object, kind: nil, apiVersion: nil))
        case "BOOKMARK":
            let metadata = try object.object().field("metadata")?.object()
            return .bookmark(resourceVersion: try metadata?.string("resourceVersion") ?? "")
        case "ERROR":
            let status = try object.object()
            return .error(code: try status.field("code")?.int32() ?? 0, message: try status.string("message"))
        default:
            throw ManifestError(.decoding, "unknown watch event type \(goQuoted(type))", path: FieldPath("type"))
        }
    }

    /// The API server speaks JSON: its own parser, many times faster than YAML's on a big list.
    private static func rootObject(_ data: Data) throws(ManifestError) -> ObjectReader {
        try FieldReader(node: try JSONParser.parse(data), path: .root).object()
    }

    /// List items leave out `kind` and `apiVersion`; the list's own kind says what they are.
    private static func decodeItem(_ reader: FieldReader, kind: String?, apiVersion: String?) -> APIItem {
        do throws(ManifestError) {
            let fields = try reader.object()
            let writtenKind = try fields.string("kind")
            let writtenVersion = try fields.string("apiVersion")
            let decoded = try ObjectDecoder.decodeObject(
                kind: kind ?? writtenKind, apiVersion: apiVersion ?? writtenVersion, fields: fields)
            guard let decoded else {
                throw ManifestError(.decoding, "not a Namespace, Pod, Node, NetworkPolicy or ClusterNetworkPolicy", path: reader.path)
            }
            return .success(decoded.object)
        } catch {
            return .failure(error)
        }
    }
}
