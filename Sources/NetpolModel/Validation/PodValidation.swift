/// The parts of the API server's Pod and Namespace validation that matter to
/// network policy: names, labels, container ports and addresses.
enum PodValidation {
    static func problems(_ pod: Pod) -> [FieldProblem] {
        var problems = CommonValidation.objectMeta(pod.metadata, namespaced: true, nameRule: NameRules.dns1123Subdomain)
        var portNames = Set<String>()
        for (containerIndex, container) in pod.spec.containers.enumerated() {
            let containerPath = FieldPath("spec", "containers").index(containerIndex)
            for (index, port) in container.ports.enumerated() {
                let path = containerPath.child("ports").index(index)
                if !port.name.isEmpty {
                    problems += NameRules.portName(port.name).map { FieldProblem(.invalid, path.child("name"), value: .string(port.name), $0) }
                    // Port names are unique across all containers of a pod.
                    if !portNames.insert(port.name).inserted {
                        problems.append(FieldProblem(.duplicate, path.child("name"), value: .string(port.name)))
                    }
                }
                problems += NameRules.portNumber(port.containerPort).map {
                    FieldProblem(.invalid, path.child("containerPort"), value: .int(port.containerPort), $0)
                }
                if !PortProtocol.supported.contains(port.protocol) {
                    problems.append(FieldProblem(.unsupported, path.child("protocol"), value: .string(port.protocol.rawValue),
                                                 NetworkPolicyValidation.supportedValues(PortProtocol.supported)))
                }
            }
        }
        if !pod.status.podIP.isEmpty, IPAddress(pod.status.podIP) == nil {
            problems.append(invalidIP(pod.status.podIP, at: FieldPath("status", "podIP")))
        }
        for (index, address) in pod.status.podIPs.enumerated() where IPAddress(address) == nil {
            problems.append(invalidIP(address, at: FieldPath("status", "podIPs").index(index).child("ip")))
        }
        return problems
    }

    private static func invalidIP(_ text: String, at path: FieldPath) -> FieldProblem {
        FieldProblem(.invalid, path, value: .string(text), "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
    }
}
