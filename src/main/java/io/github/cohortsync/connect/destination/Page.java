package io.github.cohortsync.connect.destination;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;

import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;

/**
 * One destination call's worth of members of one cohort, all with the same action.
 *
 * @param sessionId  identifies one sync of one cohort's pages of this action; the same across retries of that sync
 * @param pageNumber 1-based position among the pages of this session
 * @param totalPages the number of pages of this session
 */
public record Page(CohortRef cohort, PageAction action, String sessionId, int pageNumber, int totalPages,
                   List<MembershipChange> members) {

    /** Orders a page's members by the record each was read from, so the key does not depend on their order. */
    private static final Comparator<MembershipChange> BY_RECORD = Comparator.comparingLong(MembershipChange::offset)
            .thenComparingInt(MembershipChange::partition)
            .thenComparing(MembershipChange::topic)
            .thenComparing(MembershipChange::distinctId);

    public Page {
        members = List.copyOf(members);
    }

    /**
     * A key that is a function of what the page carries, never of the session: {@code <action>-<32 hex digits>},
     * the first 128 bits of a SHA-256 of the cohort id, the action and each member's distinct id and the record it
     * was read from (topic, partition, offset), sorted by those records (not in page order); for a {@code members}
     * page also its page number and total, since page 1 of a full sync means "replace". The same on every retry,
     * and the same when the same changes are sent again after a restart or rebalance (a new session, maybe a
     * different page number of a diff); different for any other content.
     */
    public String idempotencyKey() {
        MembershipChange[] ordered = members.toArray(new MembershipChange[0]);
        Arrays.sort(ordered, BY_RECORD);
        KeyBytes bytes = new KeyBytes(64 + ordered.length * 48);
        bytes.text("cohort-sync page v1");
        bytes.text(cohort.id());
        bytes.text(action.wireName());
        if (action == PageAction.MEMBERS) {
            bytes.number(pageNumber);
            bytes.number(totalPages);
        }
        bytes.number(ordered.length);
        for (MembershipChange member : ordered) {
            bytes.text(member.topic());
            bytes.number(member.partition());
            bytes.number(member.offset());
            bytes.text(member.distinctId());
        }
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new InternalError("SHA-256 not supported", e);
        }
        sha256.update(bytes.buffer, 0, bytes.size);
        return action.wireName() + "-" + HexFormat.of().formatHex(sha256.digest(), 0, 16);
    }

    /**
     * The bytes a key is the hash of: texts length-prefixed (so that no two sequences of texts give the same bytes)
     * in UTF-8, numbers as 8 bytes; a topic repeated from the member before is encoded once.
     */
    private static final class KeyBytes {
        private byte[] buffer;
        private int size;
        private String lastText;
        private byte[] lastBytes;

        KeyBytes(int capacity) {
            buffer = new byte[capacity];
        }

        void text(String text) {
            if (text == null) {
                number(-1);
                return;
            }
            byte[] encoded = text == lastText ? lastBytes : text.getBytes(StandardCharsets.UTF_8);
            lastText = text;
            lastBytes = encoded;
            number(encoded.length);
            ensure(encoded.length);
            System.arraycopy(encoded, 0, buffer, size, encoded.length);
            size += encoded.length;
        }

        void number(long value) {
            ensure(Long.BYTES);
            for (int shift = 56; shift >= 0; shift -= 8) {
                buffer[size++] = (byte) (value >>> shift);
            }
        }

        private void ensure(int more) {
            if (size + more > buffer.length) {
                buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, size + more));
            }
        }
    }

    /** Names the page in logs and errors, without user data. */
    public String describe() {
        return action.wireName() + " page " + pageNumber + "/" + totalPages + " of cohort " + cohort.id()
                + " (" + members.size() + " members)";
    }

    public Page withMembers(List<MembershipChange> kept) {
        return new Page(cohort, action, sessionId, pageNumber, totalPages, kept);
    }
}
