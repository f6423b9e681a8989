package io.github.cohortsync.connect.config;

/** Names of this connector's local state files (snapshot spills, delivery journals). */
public final class FileNames {
    private FileNames() {
    }

    /** {@code text} as one safe file name component: anything but letters, digits, '.', '_' and '-' becomes '_'. */
    public static String safe(String text) {
        return text.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
