package io.github.cohortsync.connect.sync.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32;

import org.apache.kafka.common.TopicPartition;

import io.github.cohortsync.connect.config.FileNames;

/**
 * What a delivery journal file holds, read without opening it as a journal (no lock, nothing rewritten): for tests
 * that inspect the journal a killed worker left behind. Stops at the first torn or damaged block, as the journal
 * does.
 *
 * @param marks every mark, in the order written
 * @param lastMarkIsStart whether the last mark is a session's start
 * @param delivered the (member hash, kind) of every delivered entry
 */
public record JournalContents(List<Long> marks, boolean lastMarkIsStart, Set<String> delivered) {

    /** The journal file of a partition, under the journal directory {@code delivery.journal.dir}. */
    public static JournalContents read(Path journalDir, String connector, TopicPartition partition)
            throws IOException {
        Path file = DeliveryJournal.fileOf(journalDir.resolve(FileNames.safe(connector)), partition);
        List<Long> marks = new ArrayList<>();
        Set<String> delivered = new HashSet<>();
        boolean lastStart = false;
        if (!Files.exists(file)) {
            return new JournalContents(marks, false, delivered);
        }
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file));
        if (bytes.remaining() < JournalFile.HEADER_BYTES || bytes.getInt() != JournalFile.MAGIC) {
            return new JournalContents(marks, false, delivered);
        }
        bytes.position(JournalFile.HEADER_BYTES);
        while (bytes.remaining() >= JournalFile.BLOCK_OVERHEAD) {
            int length = bytes.getInt();
            int crc = bytes.getInt();
            if (length <= 0 || length % JournalFile.ENTRY_BYTES != 0 || length > bytes.remaining()) {
                break;
            }
            byte[] payload = new byte[length];
            bytes.get(payload);
            CRC32 check = new CRC32();
            check.update(payload);
            if ((int) check.getValue() != crc) {
                break;
            }
            ByteBuffer entries = ByteBuffer.wrap(payload);
            while (entries.hasRemaining()) {
                long offset = entries.getLong();
                long member = entries.getLong();
                byte kind = entries.get();
                if (kind == JournalFile.MARK) {
                    marks.add(offset);
                    lastStart = member == JournalFile.START_MARK;
                } else if (kind == JournalFile.ADDED || kind == JournalFile.REMOVED) {
                    delivered.add(member + "/" + kind);
                }
            }
        }
        return new JournalContents(marks, lastStart, delivered);
    }

    /** Whether this (cohort, user) was journaled as delivered with this action ({@code add} or remove). */
    public boolean wasDelivered(String cohortId, String distinctId, boolean add) {
        return delivered.contains(DeliveryJournal.memberHash(cohortId, distinctId) + "/"
                + (add ? JournalFile.ADDED : JournalFile.REMOVED));
    }

    /** The last mark written, or -1. */
    public long lastMark() {
        return marks.isEmpty() ? -1 : marks.get(marks.size() - 1);
    }
}
