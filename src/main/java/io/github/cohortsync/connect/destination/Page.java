package io.github.cohortsync.connect.destination;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
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
    private static final Comparator<MembershipChange> BY_RECORD = Comparator.comparing(MembershipChange::topic)
            .thenComparingInt(MembershipChange::partition)
            .thenComparingLong(MembershipChange::offset)
            .thenComparing(MembershipChange::distinctId);

    public Page {
        members = List.copyOf(members);
    }

    /**
     * A key that is a function of what the page carries, never of the session: {@code <action>-<32 hex digits>},
     * the first 128 bits of a SHA-256 of the cohort id, the action and each member's distinct id and the record it
     * was read from (topic, partition, offset), in record order; for a {@code members} page also its page number
     * and total, since page 1 of a full sync means "replace". The same on every retry, and the same when the same
     * changes are sent again after a restart or rebalance (a new session, maybe a different page number of a diff);
     * different for any other content.
     */
    public String idempotencyKey() {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new InternalError("SHA-256 not supported", e);
        }
        ByteBuffer number = ByteBuffer.allocate(Long.BYTES);
        update(sha256, "cohort-sync page v1");
        update(sha256, cohort.id());
        update(sha256, action.wireName());
        if (action == PageAction.MEMBERS) {
            update(sha256, number, pageNumber);
            update(sha256, number, totalPages);
        }
        List<MembershipChange> ordered = new ArrayList<>(members);
        ordered.sort(BY_RECORD);
        update(sha256, number, ordered.size());
        for (MembershipChange member : ordered) {
            update(sha256, member.topic());
            update(sha256, number, member.partition());
            update(sha256, number, member.offset());
            update(sha256, member.distinctId());
        }
        byte[] hash = sha256.digest();
        return action.wireName() + "-" + HexFormat.of().formatHex(hash, 0, 16);
    }

    /** Length-prefixed, so that no two sequences of texts feed the same bytes. */
    private static void update(MessageDigest digest, String text) {
        byte[] bytes = text == null ? new byte[0] : text.getBytes(StandardCharsets.UTF_8);
        digest.update(ByteBuffer.allocate(Integer.BYTES + 1).putInt(bytes.length).put((byte) (text == null ? 0 : 1))
                .array());
        digest.update(bytes);
    }

    private static void update(MessageDigest digest, ByteBuffer buffer, long value) {
        buffer.clear();
        digest.update(buffer.putLong(value).array());
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
