package io.github.cohortsync.connect.sync.state;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What a task remembers about cohorts across restarts, in one small JSON file next to the delivery journal: per
 * cohort the last name seen and whether the destination had its first contact (a delivered page), plus the refresh
 * generation of the last delivered full sync and since when the destination has been failing.
 *
 * <p>Bounded: at most {@link #MAX_COHORTS} cohorts (the least recently used is forgotten first: it then looks new,
 * which costs one full sync of it, never a wrong one) and names of at most {@link #MAX_NAME_CHARS} characters
 * (longer ones are not remembered). Crash-safe: the file is written whole to a temporary file, forced to disk and
 * moved over the old one, so a crash leaves the old or the new file; a file that cannot be read (damaged, or from
 * another version) is logged and ignored, and the task starts with nothing remembered. A directory that cannot be
 * written leaves the store in memory only (a WARN names it).
 */
public final class CohortStateStore {
    private static final Logger log = LoggerFactory.getLogger(CohortStateStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final int VERSION = 1;
    /** Far more cohorts than an analytics project has; keeps the file and the heap small (a few MB at most). */
    public static final int MAX_COHORTS = 10_000;
    /** Flagsmith's limit on a cohort name; a longer name is sent but not remembered. */
    public static final int MAX_NAME_CHARS = 2_000;

    private record Entry(String name, boolean contacted) {
    }

    private final Path file;
    private final Map<String, Entry> cohorts = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
            return size() > MAX_COHORTS;
        }
    };
    private String generation;
    private long failingSinceMs = -1;
    private boolean dirty;
    private boolean writable;

    private CohortStateStore(Path file) {
        this.file = file;
        this.writable = file != null;
    }

    /** A store that keeps nothing across restarts. */
    public static CohortStateStore inMemory() {
        return new CohortStateStore(null);
    }

    /** The store in {@code file}, read now; never fails (see the class comment). */
    public static CohortStateStore open(Path file) {
        CohortStateStore store = new CohortStateStore(file);
        try {
            Files.createDirectories(file.getParent());
            Files.deleteIfExists(tmpOf(file));
        } catch (IOException | RuntimeException e) {
            log.warn("Cohort state directory {} is not writable ({}): cohort names and first contacts are remembered"
                    + " until the task stops only", file.getParent(), e.toString());
            store.writable = false;
        }
        store.load();
        return store;
    }

    private static Path tmpOf(Path file) {
        return file.resolveSibling(file.getFileName() + ".tmp");
    }

    private void load() {
        if (file == null || !Files.isRegularFile(file)) {
            return;
        }
        try {
            JsonNode root = JSON.readTree(file.toFile());
            if (root == null || !root.isObject() || root.path("version").asInt() != VERSION
                    || !root.path("cohorts").isArray()) {
                throw new IOException("not a version " + VERSION + " cohort state file");
            }
            JsonNode generationNode = root.get("generation");
            generation = generationNode == null || generationNode.isNull() ? null : generationNode.asText();
            failingSinceMs = root.path("failing_since_ms").asLong(-1);
            for (JsonNode cohort : root.get("cohorts")) {
                String id = cohort.path("id").asText(null);
                if (id != null) {
                    JsonNode name = cohort.get("name");
                    cohorts.put(id, new Entry(name == null || name.isNull() ? null : name.asText(),
                            cohort.path("contacted").asBoolean(false)));
                }
            }
        } catch (IOException | RuntimeException e) {
            // A damaged file only makes cohorts look new (a full sync of them) and names unknown (a fallback name).
            log.warn("Cohort state file {} cannot be read ({}): starting with no cohort remembered", file,
                    e.getClass().getSimpleName());
            cohorts.clear();
            generation = null;
            failingSinceMs = -1;
        }
    }

    /** The last name seen of the cohort; null when none was ever seen. */
    public synchronized String name(String cohortId) {
        Entry entry = cohorts.get(cohortId);
        return entry == null ? null : entry.name();
    }

    /** Remembers a cohort's name (a null, blank or too long name leaves the remembered one). */
    public synchronized void sawName(String cohortId, String name) {
        if (name == null || name.isBlank() || name.length() > MAX_NAME_CHARS) {
            return;
        }
        Entry entry = cohorts.get(cohortId);
        if (entry == null || !name.equals(entry.name())) {
            cohorts.put(cohortId, new Entry(name, entry != null && entry.contacted()));
            dirty = true;
        }
    }

    /** True when the destination accepted a page of this cohort (as remembered). */
    public synchronized boolean isContacted(String cohortId) {
        Entry entry = cohorts.get(cohortId);
        return entry != null && entry.contacted();
    }

    public synchronized void contacted(String cohortId) {
        Entry entry = cohorts.get(cohortId);
        if (entry == null || !entry.contacted()) {
            cohorts.put(cohortId, new Entry(entry == null ? null : entry.name(), true));
            dirty = true;
        }
    }

    /** The refresh generation of the last delivered full sync; null when none was recorded. */
    public synchronized String generation() {
        return generation;
    }

    public synchronized void generation(String value) {
        if (!value.equals(generation)) {
            generation = value;
            dirty = true;
        }
    }

    /** Since when the destination has been failing (epoch ms), or -1. */
    public synchronized long failingSinceMs() {
        return failingSinceMs;
    }

    public synchronized void failingSinceMs(long value) {
        if (value != failingSinceMs) {
            failingSinceMs = value;
            dirty = true;
        }
    }

    /** Cohorts remembered, for tests and logs. */
    public synchronized int size() {
        return cohorts.size();
    }

    /** Writes the file when something changed; a failed write is logged and leaves the store in memory only. */
    public synchronized void save() {
        if (!dirty || !writable) {
            return;
        }
        ObjectNode root = JSON.createObjectNode();
        root.put("version", VERSION);
        root.put("generation", generation);
        root.put("failing_since_ms", failingSinceMs);
        ArrayNode list = root.putArray("cohorts");
        cohorts.forEach((id, entry) -> {
            ObjectNode cohort = list.addObject();
            cohort.put("id", id);
            cohort.put("name", entry.name());
            cohort.put("contacted", entry.contacted());
        });
        Path tmp = tmpOf(file);
        try {
            byte[] bytes = JSON.writeValueAsBytes(root);
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(bytes);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            dirty = false;
        } catch (IOException | RuntimeException e) {
            log.warn("Cohort state file {} could not be written ({}): cohort names and first contacts are"
                    + " remembered until the task stops only", file, e.toString());
            writable = false;
        }
    }
}
