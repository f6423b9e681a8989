package io.github.cohortsync.connect.destination.segment;

import java.io.IOException;
import java.time.Instant;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;

import io.github.cohortsync.connect.http.JsonBodies;
import io.github.cohortsync.connect.record.MembershipChange;

/**
 * Writes a page's {@code identify} messages one at a time with one generator into one reusable buffer, so that each
 * message is sized (Segment's per-message and per-request limits) and then copied into its request's body: no
 * generator, byte array, digest or timestamp string per message. The JSON is what a fresh {@code JsonGenerator} per
 * message wrote before (the same calls for the member's values; constant names and ASCII values written from
 * pre-quoted or char-array forms, which Jackson writes identically). Not thread-safe: one per page.
 */
final class IdentifyMessages implements AutoCloseable {
    private static final SerializedString TYPE = new SerializedString("type");
    private static final SerializedString IDENTIFY = new SerializedString("identify");
    private static final SerializedString USER_ID = new SerializedString("userId");
    private static final SerializedString TRAITS = new SerializedString("traits");
    private static final SerializedString MESSAGE_ID = new SerializedString("messageId");
    private static final SerializedString TIMESTAMP = new SerializedString("timestamp");

    private final JsonBodies.Buffer message = new JsonBodies.Buffer(512);
    private final JsonGenerator json;
    private final MessageIds messageIds;
    private final String trait;
    private final boolean value;
    private final char[] chars = new char[Math.max(MessageIds.LENGTH, InstantText.MAX_LENGTH)];

    /**
     * @param trait the name of the boolean trait every message sets
     * @param value its value: true for members who entered, false for those who left
     */
    IdentifyMessages(MessageIds messageIds, String trait, boolean value) throws IOException {
        this.messageIds = messageIds;
        this.trait = trait;
        this.value = value;
        this.json = JsonBodies.generator(message);
        // Messages are consecutive root values of this generator: no separator between them (the caller adds ",").
        json.setRootValueSeparator(null);
    }

    /** Writes the member's message in place of the previous one and returns its size in bytes. */
    int write(MembershipChange change, String userId) throws IOException {
        message.reset();
        json.writeStartObject();
        json.writeFieldName(TYPE);
        json.writeString(IDENTIFY);
        json.writeFieldName(USER_ID);
        json.writeString(userId);
        json.writeFieldName(TRAITS);
        json.writeStartObject();
        json.writeBooleanField(trait, value);
        json.writeEndObject();
        json.writeFieldName(MESSAGE_ID);
        messageIds.write(change, chars);
        json.writeString(chars, 0, MessageIds.LENGTH);
        json.writeFieldName(TIMESTAMP);
        int length = InstantText.write(change.timestampMillis(), chars);
        if (length < 0) {
            json.writeString(Instant.ofEpochMilli(change.timestampMillis()).toString());
        } else {
            json.writeString(chars, 0, length);
        }
        json.writeEndObject();
        json.flush();
        return message.size();
    }

    /** Appends the last message written to a request's body. */
    void appendTo(JsonBodies.Buffer body) {
        body.write(message);
    }

    @Override
    public void close() throws IOException {
        json.close();
    }
}
