package io.streamrank;

/** The core's version, read by the Python side to check that it loaded the jar it was built with. */
public final class Version {
    public static final String VERSION = "0.1.0";

    private Version() {}

    public static String get() {
        return VERSION;
    }
}
