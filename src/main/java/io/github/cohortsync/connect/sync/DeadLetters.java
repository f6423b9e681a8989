package io.github.cohortsync.connect.sync;

import java.util.List;

import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.cohortsync.connect.destination.Rejection;
import io.github.cohortsync.connect.record.BadRecordException;
import io.github.cohortsync.connect.record.DeadLetterRecord;
import io.github.cohortsync.connect.record.MembershipChange;

/**
 * Where bad records and rejected members go: the errant record reporter (and so the dead letter queue) when
 * {@code errors.tolerance=all}, the log otherwise; a bad record fails the task unless errors are tolerated.
 */
public final class DeadLetters {
    private static final Logger log = LoggerFactory.getLogger(DeadLetters.class);

    /** Null when the worker has no errant record reporter (older runtimes, or none configured). */
    private final ErrantRecordReporter reporter;
    private final boolean tolerateErrors;

    public DeadLetters(ErrantRecordReporter reporter, boolean tolerateErrors) {
        this.reporter = reporter;
        this.tolerateErrors = tolerateErrors;
    }

    /**
     * A record that is not a membership change: reported and skipped when errors are tolerated.
     *
     * @throws ConnectException when they are not, which fails the task
     */
    public void badRecord(SinkRecord record, BadRecordException e) {
        if (!tolerateErrors) {
            throw new ConnectException(e.getMessage() + ". Fix the producer or map the record with an SMT;"
                    + " to skip bad records instead, set errors.tolerance=all and errors.deadletterqueue.topic.name.",
                    e);
        }
        if (reporter != null) {
            reporter.report(record, e);
            log.warn("{} (sent to the errant record reporter)", e.getMessage());
        } else {
            log.warn("{} (skipped: errors.tolerance=all with neither a dead letter queue nor errors.log.enable)",
                    e.getMessage());
        }
    }

    /** Members the destination rejected: logged, and reported as replayable records when errors are tolerated. */
    public void rejected(List<Rejection> rejections) {
        for (Rejection rejection : rejections) {
            MembershipChange member = rejection.member();
            String message = "Destination rejected the member of cohort " + member.cohort().id() + " read at "
                    + member.coordinates() + ": " + rejection.reason();
            // Rejections never fail the task: with errors.tolerance=none the reporter would, so they are logged only.
            if (reporter != null && tolerateErrors) {
                reportReplayable(member, new ConnectException(message));
            }
            log.warn(message);
        }
    }

    /** Reports the rejected change as a record that re-applies it when produced into the source topic. */
    private void reportReplayable(MembershipChange member, ConnectException error) {
        try {
            DeadLetterRecord.report(reporter, member, error);
        } catch (DataException e) {
            log.warn("The rejection of the member read at {} could not be written to the dead letter queue by the"
                    + " connector's converters: {}", member.coordinates(), e.getMessage());
        }
    }
}
