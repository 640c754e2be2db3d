package io.streamrank.shared;

/**
 * Redis key names: {@code <namespace>:<kind>:<name>:<part>}, so two applications can share one
 * Redis (different namespaces) and one application can have several boards or processors
 * (different names). Kinds: {@code lb} (leaderboard), {@code ev} (event stream).
 */
public record Keys(String namespace, String kind, String name) {
    public Keys {
        check("namespace", namespace);
        check("name", name);
    }

    private static void check(String what, String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(what + " must be a non-empty string");
        }
    }

    public String key(String part) {
        return namespace + ":" + kind + ":" + name + ":" + part;
    }
}
