package io.github.cohortsync.connect.sync.journal;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the Kafka ids of the topics of newly assigned partitions, so that the {@link DeliveryJournal} of a topic
 * that was deleted and created again under the same name is started afresh rather than trusted at the new topic's
 * offsets. Never fails: a topic whose id cannot be read keeps its journal as before, and the log names it. Used on
 * the task thread only.
 */
public final class TopicIds {
    private static final Logger log = LoggerFactory.getLogger(TopicIds.class);

    /** Reads the ids; null when there is no admin client. */
    private final Function<Collection<String>, Map<String, Uuid>> lookup;
    private final boolean warnWhenUnavailable;
    /** Topics already named in the line saying no admin client can read ids: once per topic and task. */
    private final Set<String> warned = new HashSet<>();

    private TopicIds(Function<Collection<String>, Map<String, Uuid>> lookup, boolean warnWhenUnavailable) {
        this.lookup = lookup;
        this.warnWhenUnavailable = warnWhenUnavailable;
    }

    /** Ids read by {@code lookup} (an admin client's), which may throw; bound its calls with a timeout. */
    public static TopicIds readBy(Function<Collection<String>, Map<String, Uuid>> lookup) {
        return new TopicIds(lookup, true);
    }

    /** No admin client: every topic is named once in an INFO line, and its journal is kept as before. */
    public static TopicIds unavailable() {
        return new TopicIds(null, true);
    }

    /** No ids and no log line: the journal is off, or a test. */
    public static TopicIds none() {
        return new TopicIds(null, false);
    }

    /** The ids of these partitions' topics that could be read; the others are named in the log. */
    public Map<String, Uuid> of(Collection<TopicPartition> partitions) {
        Set<String> topics = new TreeSet<>();
        partitions.forEach(partition -> topics.add(partition.topic()));
        if (topics.isEmpty() || (lookup == null && !warnWhenUnavailable)) {
            return Map.of();
        }
        if (lookup == null) {
            topics.removeAll(warned);
            if (!topics.isEmpty()) {
                warned.addAll(topics);
                log.info("The topic id of {} cannot be read (snapshot.bootstrap.servers is not set): if such a topic is"
                        + " deleted and created again under the same name, this task trusts its delivery journal of"
                        + " the old topic, and may skip changes of the new one at the offsets the old one delivered."
                        + " Set snapshot.bootstrap.servers, or delete the connector's directory under"
                        + " delivery.journal.dir when re-creating a topic", topics);
            }
            return Map.of();
        }
        Map<String, Uuid> read;
        try {
            read = lookup.apply(topics);
        } catch (RuntimeException e) {
            log.warn("Could not read the topic id of {} ({}): their delivery journals are kept as they are, so a topic"
                    + " deleted and created again under the same name is not noticed at this assignment", topics,
                    e.getMessage());
            return Map.of();
        }
        Map<String, Uuid> ids = new HashMap<>();
        Set<String> missing = new TreeSet<>();
        for (String topic : topics) {
            Uuid id = read == null ? null : read.get(topic);
            if (id == null || Uuid.ZERO_UUID.equals(id)) {
                missing.add(topic);
            } else {
                ids.put(topic, id);
            }
        }
        if (!missing.isEmpty()) {
            log.warn("The broker gave no topic id for {}: their delivery journals are kept as they are, so a topic"
                    + " deleted and created again under the same name is not noticed at this assignment", missing);
        }
        return ids;
    }
}
