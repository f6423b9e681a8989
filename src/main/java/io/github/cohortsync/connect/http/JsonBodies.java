package io.github.cohortsync.connect.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

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
        Bytes bytes = new Bytes(expectedBytes);
        try (JsonGenerator json = FACTORY.createGenerator(bytes)) {
            writer.write(json);
        } catch (IOException e) {
            throw new IllegalStateException("Could not write " + what + " as JSON", e);
        }
        return bytes.body(type);
    }

    /** Exposes its buffer so that the body wraps it instead of copying it. */
    private static final class Bytes extends ByteArrayOutputStream {
        Bytes(int size) {
            super(Math.max(64, size));
        }

        RequestBody body(MediaType type) {
            return RequestBody.create(buf, type, 0, count);
        }
    }
}
