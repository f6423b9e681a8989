package io.github.cohortsync.connect.http;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import okhttp3.MediaType;
import okhttp3.RequestBody;

/**
 * Request bodies written as a stream of JSON tokens with Jackson's {@code JsonGenerator} straight into UTF-8 bytes,
 * as the webhook and Segment write theirs: no tree of nodes per member, and the bytes are handed to OkHttp without a
 * copy. Strings are escaped as Jackson always does (quotes, backslashes, control characters; characters outside the
 * Basic Multilingual Plane as a pair of {@code \}{@code uXXXX} escapes, which any JSON parser reads back as the
 * same character; an unpaired surrogate as its escape too, where text encoded by OkHttp would turn it into '?').
 */
public final class JsonBodies {
    private static final JsonFactory FACTORY = new JsonFactory();

    private JsonBodies() {
    }

    /** Writes one JSON value with the generator it is given. */
    @FunctionalInterface
    public interface Writer {
        void write(JsonGenerator json) throws IOException;
    }

    /**
     * The JSON the writer produces, as a request body of the given type.
     *
     * @param expectedBytes the initial capacity: a close estimate saves the buffer's growth copies
     * @param what          names the body in the error thrown if the writer fails (never a member's data)
     */
    public static RequestBody write(MediaType type, int expectedBytes, String what, Writer writer) {
        Buffer bytes = new Buffer(expectedBytes);
        try (JsonGenerator json = FACTORY.createGenerator(bytes)) {
            writer.write(json);
        } catch (IOException e) {
            throw new IllegalStateException("Could not write " + what + " as JSON", e);
        }
        return bytes.body(type);
    }

    /**
     * A generator of the shared factory writing UTF-8 JSON to {@code out}, for a body assembled from pieces (see
     * {@link Buffer}); the caller closes it. It escapes exactly as {@link #write} does.
     */
    public static JsonGenerator generator(OutputStream out) throws IOException {
        return FACTORY.createGenerator(out);
    }

    /**
     * A growable byte buffer for a body, written by {@link #write} or assembled from pieces (as Segment assembles a
     * batch from messages written and sized one at a time): unsynchronized (one thread owns it), and wrapped by the
     * request body without a copy.
     */
    public static final class Buffer extends OutputStream {
        private byte[] bytes;
        private int count;

        public Buffer(int capacity) {
            bytes = new byte[Math.max(64, capacity)];
        }

        @Override
        public void write(int b) {
            ensure(1);
            bytes[count++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            ensure(len);
            System.arraycopy(b, off, bytes, count, len);
            count += len;
        }

        /** Appends what the other buffer holds. */
        public void write(Buffer other) {
            write(other.bytes, 0, other.count);
        }

        /** The number of bytes written (since the last {@link #reset}). */
        public int size() {
            return count;
        }

        /** Empties the buffer and keeps its capacity. */
        public void reset() {
            count = 0;
        }

        /**
         * The bytes written so far as a request body. The body shares this buffer's array, so the buffer must not be
         * written to or reset while the body is in use (a retry writes the body again).
         */
        public RequestBody body(MediaType type) {
            return RequestBody.create(bytes, type, 0, count);
        }

        private void ensure(int more) {
            if (more > bytes.length - count) {
                int needed = Math.addExact(count, more);
                bytes = Arrays.copyOf(bytes, Math.max(needed, bytes.length * 2));
            }
        }
    }
}
