package io.github.cohortsync.connect.sync;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkTaskContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps exactly the wanted partitions paused, remembering which ones this task paused. Newly assigned partitions are
 * paused or resumed explicitly whatever was asked before: the worker re-pauses a partition the task paused before a
 * rebalance, even when the task resumed while it owned nothing, which would otherwise leave it paused for good.
 */
public final class PartitionPauser {
    private static final Logger log = LoggerFactory.getLogger(PartitionPauser.class);

    private final SinkTaskContext context;
    private final Set<TopicPartition> paused = new HashSet<>();

    public PartitionPauser(SinkTaskContext context) {
        this.context = context;
    }

    /**
     * Pauses the wanted partitions not paused yet and resumes the others.
     *
     * @param assignedNow partitions assigned just now, paused or resumed whatever this task asked before
     * @return how many partitions were newly paused
     */
    public int apply(Set<TopicPartition> wanted, Collection<TopicPartition> assignedNow) {
        Set<TopicPartition> toPause = new HashSet<>(wanted);
        toPause.removeAll(paused);
        toPause.addAll(assignedNow.stream().filter(wanted::contains).toList());
        Set<TopicPartition> toResume = new HashSet<>(paused);
        toResume.retainAll(context.assignment());
        toResume.addAll(assignedNow);
        toResume.removeAll(wanted);
        if (!toPause.isEmpty()) {
            context.pause(toPause.toArray(new TopicPartition[0]));
        }
        if (!toResume.isEmpty()) {
            context.resume(toResume.toArray(new TopicPartition[0]));
            long wasPaused = toResume.stream().filter(paused::contains).count();
            if (wasPaused > 0) {
                log.info("Resuming consumption of {} partitions", wasPaused);
            }
        }
        paused.clear();
        paused.addAll(wanted);
        return toPause.size();
    }

    /** True when this task keeps no partition paused. */
    public boolean isEmpty() {
        return paused.isEmpty();
    }

    /** Revoked partitions are no longer this task's to resume. */
    public void forget(Collection<TopicPartition> partitions) {
        paused.removeAll(partitions);
    }
}
