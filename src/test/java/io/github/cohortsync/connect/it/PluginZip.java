package io.github.cohortsync.connect.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.junit.jupiter.api.Assumptions;

/** The plugin zip that {@code mvn package} builds, unzipped for the tests that load it as a Connect worker would. */
final class PluginZip {
    private PluginZip() {
    }

    /**
     * Unzips {@code target/kafka-connect-cohort-sync-*.zip} into {@code dir}, checking that every entry stays inside
     * it, and returns what stands at the top of {@code dir}. Skips the calling test when there is no zip.
     */
    static List<Path> unzip(Path dir) throws IOException {
        Path target = Path.of(System.getProperty("basedir", "."), "target");
        Path zip;
        try (Stream<Path> files = Files.exists(target) ? Files.list(target) : Stream.empty()) {
            zip = files.filter(p -> p.getFileName().toString().matches("kafka-connect-cohort-sync-.*\\.zip"))
                    .findFirst().orElse(null);
        }
        Assumptions.assumeTrue(zip != null, "no target/kafka-connect-cohort-sync-*.zip: run mvn package first");
        try (ZipFile archive = new ZipFile(zip.toFile())) {
            Enumeration<? extends ZipEntry> entries = archive.entries();
            while (entries.hasMoreElements()) {
                ZipEntry entry = entries.nextElement();
                Path out = dir.resolve(entry.getName()).normalize();
                assertThat(out.startsWith(dir)).as("zip entry %s stays inside", entry.getName()).isTrue();
                if (entry.isDirectory()) {
                    Files.createDirectories(out);
                } else {
                    Files.createDirectories(out.getParent());
                    try (InputStream in = archive.getInputStream(entry)) {
                        Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        }
        try (Stream<Path> top = Files.list(dir)) {
            return top.toList();
        }
    }
}
