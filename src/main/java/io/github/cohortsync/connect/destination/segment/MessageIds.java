package io.github.cohortsync.connect.destination.segment;

import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

import io.github.cohortsync.connect.record.MembershipChange;

/**
 * Segment {@code messageId}s: {@code UUID.nameUUIDFromBytes} (an MD5 name-based UUID, version 3) of
 * {@code "<connector>\n<topic>\n<partition>\n<offset>"} in UTF-8, the same value on every retry and after a restart,
 * so that Segment deduplicates a resent change. Computes exactly what {@code UUID.nameUUIDFromBytes(...).toString()}
 * does, with one digest and one coordinates buffer reused for all messages and no allocation per message. Not
 * thread-safe: one per page being written.
 */
final class MessageIds {
    /** The length of a UUID's text. */
    static final int LENGTH = 36;
    private static final char[] HEX = "0123456789abcdef".toCharArray();
    /** Room for "\n", the partition, "\n" and the offset: two longs of at most 20 characters each. */
    private static final int NUMBERS = 2 + 2 * 20;

    private final int prefixLength;
    private final MessageDigest md5;
    private final byte[] hash = new byte[16];
    private byte[] coordinates;
    private String topic;
    private byte[] topicBytes;

    MessageIds(String connectorName) {
        byte[] prefix = (connectorName + "\n").getBytes(StandardCharsets.UTF_8);
        prefixLength = prefix.length;
        coordinates = new byte[prefixLength + 64 + NUMBERS];
        System.arraycopy(prefix, 0, coordinates, 0, prefixLength);
        try {
            md5 = MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new InternalError("MD5 not supported", e);
        }
    }

    /** The change's messageId. */
    String messageId(MembershipChange change) {
        char[] text = new char[LENGTH];
        write(change, text);
        return new String(text);
    }

    /** Writes the change's messageId, {@link #LENGTH} characters, at the start of {@code out}. */
    void write(MembershipChange change, char[] out) {
        byte[] topicUtf8 = topicBytes(change.topic());
        int needed = prefixLength + topicUtf8.length + NUMBERS;
        if (coordinates.length < needed) {
            byte[] larger = new byte[needed];
            System.arraycopy(coordinates, 0, larger, 0, prefixLength);
            coordinates = larger;
        }
        int length = prefixLength;
        System.arraycopy(topicUtf8, 0, coordinates, length, topicUtf8.length);
        length += topicUtf8.length;
        coordinates[length++] = '\n';
        length = decimal(change.partition(), length);
        coordinates[length++] = '\n';
        length = decimal(change.offset(), length);
        md5.update(coordinates, 0, length);
        try {
            md5.digest(hash, 0, hash.length);
        } catch (DigestException e) {
            throw new IllegalStateException("MD5 digest failed", e);
        }
        // As UUID.nameUUIDFromBytes: version 3, IETF variant.
        hash[6] = (byte) ((hash[6] & 0x0f) | 0x30);
        hash[8] = (byte) ((hash[8] & 0x3f) | 0x80);
        int c = 0;
        for (int i = 0; i < hash.length; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10) {
                out[c++] = '-';
            }
            out[c++] = HEX[(hash[i] >> 4) & 0x0f];
            out[c++] = HEX[hash[i] & 0x0f];
        }
    }

    /** The topic's UTF-8 bytes, kept for the next change, which is almost always of the same topic. */
    private byte[] topicBytes(String name) {
        if (topicBytes == null || !topic.equals(String.valueOf(name))) {
            topic = String.valueOf(name);
            topicBytes = topic.getBytes(StandardCharsets.UTF_8);
        }
        return topicBytes;
    }

    /** Writes {@code value} as {@code Long.toString} does (ASCII) at {@code at}; returns the end. */
    private int decimal(long value, int at) {
        if (value < 0) {
            if (value == Long.MIN_VALUE) {
                byte[] text = Long.toString(value).getBytes(StandardCharsets.US_ASCII);
                System.arraycopy(text, 0, coordinates, at, text.length);
                return at + text.length;
            }
            coordinates[at++] = '-';
            value = -value;
        }
        int digits = 1;
        for (long rest = value / 10; rest != 0; rest /= 10) {
            digits++;
        }
        int end = at + digits;
        for (int i = end - 1; i >= at; i--) {
            coordinates[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        return end;
    }
}
