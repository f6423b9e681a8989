package io.github.cohortsync.connect.sync.snapshot;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.record.Action;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;

/**
 * Membership changes in a spill file, and back: a compact binary form (length-prefixed UTF-8 strings, variable-length
 * numbers, tagged property values) that keeps every field and every property's Java type. A run is sorted by
 * cohort, so a change whose cohort fields equal the previous change's writes one byte for them, and a reader shares
 * one {@link CohortRef} among them. JSON lines through Jackson cost about as much as the rest of a full sync together
 * (profiled, docs/benchmarks.md "Full sync").
 */
final class SpillCodec {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SAME_COHORT = 0;
    private static final int NEW_COHORT = 1;

    private static final int NULL = 0;
    private static final int STRING = 1;
    private static final int LONG = 2;
    private static final int INT = 3;
    private static final int DOUBLE = 4;
    private static final int TRUE = 5;
    private static final int FALSE = 6;
    private static final int MAP = 7;
    private static final int LIST = 8;
    private static final int FLOAT = 9;
    private static final int SHORT = 10;
    private static final int BYTE = 11;
    private static final int BIG_DECIMAL = 12;
    private static final int BIG_INTEGER = 13;
    private static final int BYTES = 14;
    /** Anything else a converter may hand over: its JSON, read back as Jackson reads JSON. */
    private static final int OTHER = 15;

    private SpillCodec() {
    }

    /**
     * Writes changes to one spill file through its own buffer (not a DataOutputStream over a BufferedOutputStream,
     * whose synchronized call per byte cost more than the encoding); {@link #flush()} before the stream is closed.
     */
    static final class Writer {
        private final OutputStream stream;
        private final Buffer out = new Buffer();
        private CohortRef previous;

        Writer(OutputStream stream) {
            this.stream = stream;
        }

        /** Writes out what is buffered. */
        void flush() throws IOException {
            stream.write(out.bytes, 0, out.size);
            out.size = 0;
            stream.flush();
        }

        void write(MembershipChange change) throws IOException {
            if (out.size >= FLUSH_AT) {
                stream.write(out.bytes, 0, out.size);
                out.size = 0;
            }
            CohortRef cohort = change.cohort();
            if (cohort.equals(previous)) {
                out.writeByte(SAME_COHORT);
            } else {
                out.writeByte(NEW_COHORT);
                string(cohort.id());
                string(cohort.name());
                string(cohort.description());
                string(cohort.projectId());
                previous = cohort;
            }
            string(change.distinctId());
            out.writeByte(change.action().ordinal());
            string(change.email());
            string(change.firstName());
            string(change.lastName());
            string(change.phoneNumber());
            varint(change.properties().size());
            for (Map.Entry<String, Object> property : change.properties().entrySet()) {
                string(property.getKey());
                value(property.getValue());
            }
            out.writeLong(change.timestampMillis());
            string(change.topic());
            varint(change.partition());
            out.writeLong(change.offset());
        }

        private void value(Object value) throws IOException {
            if (value == null) {
                out.writeByte(NULL);
            } else if (value instanceof String text) {
                out.writeByte(STRING);
                string(text);
            } else if (value instanceof Long number) {
                out.writeByte(LONG);
                out.writeLong(number);
            } else if (value instanceof Integer number) {
                out.writeByte(INT);
                out.writeInt(number);
            } else if (value instanceof Double number) {
                out.writeByte(DOUBLE);
                out.writeDouble(number);
            } else if (value instanceof Boolean flag) {
                out.writeByte(flag ? TRUE : FALSE);
            } else if (value instanceof Map<?, ?> map) {
                out.writeByte(MAP);
                varint(map.size());
                for (Map.Entry<?, ?> entry : map.entrySet()) {
                    string(String.valueOf(entry.getKey()));
                    value(entry.getValue());
                }
            } else if (value instanceof List<?> list) {
                out.writeByte(LIST);
                varint(list.size());
                for (Object item : list) {
                    value(item);
                }
            } else if (value instanceof Float number) {
                out.writeByte(FLOAT);
                out.writeFloat(number);
            } else if (value instanceof Short number) {
                out.writeByte(SHORT);
                out.writeShort(number);
            } else if (value instanceof Byte number) {
                out.writeByte(BYTE);
                out.writeByte(number);
            } else if (value instanceof BigDecimal number) {
                out.writeByte(BIG_DECIMAL);
                string(number.toString());
            } else if (value instanceof BigInteger number) {
                out.writeByte(BIG_INTEGER);
                string(number.toString());
            } else if (value instanceof byte[] bytes) {
                out.writeByte(BYTES);
                varint(bytes.length);
                out.write(bytes);
            } else {
                out.writeByte(OTHER);
                string(JSON.writeValueAsString(value));
            }
        }

        /** Null as 0, else the UTF-8 length + 1, then the bytes. */
        private void string(String text) {
            if (text == null) {
                out.writeByte(0);
                return;
            }
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            varint(bytes.length + 1);
            out.write(bytes);
        }

        private void varint(int value) {
            int rest = value;
            while ((rest & ~0x7F) != 0) {
                out.writeByte((rest & 0x7F) | 0x80);
                rest >>>= 7;
            }
            out.writeByte(rest);
        }
    }

    /** Buffered changes are written out once this many bytes are waiting. */
    private static final int FLUSH_AT = 64 * 1024;

    /** A growing byte array, written big-endian as DataOutput writes. */
    private static final class Buffer {
        byte[] bytes = new byte[FLUSH_AT + 4096];
        int size;

        private void ensure(int more) {
            if (size + more > bytes.length) {
                bytes = java.util.Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
            }
        }

        void writeByte(int b) {
            ensure(1);
            bytes[size++] = (byte) b;
        }

        void write(byte[] b) {
            ensure(b.length);
            System.arraycopy(b, 0, bytes, size, b.length);
            size += b.length;
        }

        void writeShort(int v) {
            writeByte(v >>> 8);
            writeByte(v);
        }

        void writeInt(int v) {
            ensure(4);
            for (int shift = 24; shift >= 0; shift -= 8) {
                bytes[size++] = (byte) (v >>> shift);
            }
        }

        void writeLong(long v) {
            ensure(8);
            for (int shift = 56; shift >= 0; shift -= 8) {
                bytes[size++] = (byte) (v >>> shift);
            }
        }

        void writeFloat(float v) {
            writeInt(Float.floatToIntBits(v));
        }

        void writeDouble(double v) {
            writeLong(Double.doubleToLongBits(v));
        }
    }

    /** Reads the changes of one spill file back, in the order written, through its own buffer. */
    static final class Reader {
        private final InputStream stream;
        private final byte[] buffer = new byte[64 * 1024];
        private int position;
        private int limit;
        private final Map<String, String> topics = new HashMap<>();
        private CohortRef previous;

        Reader(InputStream stream) {
            this.stream = stream;
        }

        /** True when at least one more byte is there (refilling the buffer when needed). */
        private boolean fill() throws IOException {
            if (position < limit) {
                return true;
            }
            int n = stream.read(buffer, 0, buffer.length);
            position = 0;
            limit = Math.max(0, n);
            return n > 0;
        }

        private int readUnsignedByte() throws IOException {
            if (position >= limit && !fill()) {
                throw new EOFException("Damaged snapshot spill file: it ends inside a change");
            }
            return buffer[position++] & 0xFF;
        }

        private byte readByte() throws IOException {
            return (byte) readUnsignedByte();
        }

        private short readShort() throws IOException {
            return (short) ((readUnsignedByte() << 8) | readUnsignedByte());
        }

        private int readInt() throws IOException {
            int v = 0;
            for (int i = 0; i < 4; i++) {
                v = (v << 8) | readUnsignedByte();
            }
            return v;
        }

        private long readLong() throws IOException {
            if (limit - position >= 8) {
                long v = 0;
                for (int i = 0; i < 8; i++) {
                    v = (v << 8) | (buffer[position++] & 0xFF);
                }
                return v;
            }
            return ((long) readInt() << 32) | (readInt() & 0xFFFFFFFFL);
        }

        private void readFully(byte[] into, int length) throws IOException {
            int done = 0;
            while (done < length) {
                if (position >= limit && !fill()) {
                    throw new EOFException("Damaged snapshot spill file: it ends inside a change");
                }
                int n = Math.min(length - done, limit - position);
                System.arraycopy(buffer, position, into, done, n);
                position += n;
                done += n;
            }
        }

        /** The next change, or null at the end of the file. */
        MembershipChange read() throws IOException {
            if (!fill()) {
                return null;
            }
            int cohortFlag = readUnsignedByte();
            if (cohortFlag == NEW_COHORT) {
                previous = new CohortRef(string(), string(), string(), string());
            } else if (cohortFlag != SAME_COHORT || previous == null) {
                throw new IOException("Damaged snapshot spill file: unexpected cohort marker " + cohortFlag);
            }
            String distinctId = string();
            Action action = Action.values()[readUnsignedByte()];
            String email = string();
            String firstName = string();
            String lastName = string();
            String phoneNumber = string();
            int count = varint();
            Map<String, Object> properties = count == 0 ? Map.of() : new LinkedHashMap<>(count * 2);
            for (int i = 0; i < count; i++) {
                properties.put(string(), value());
            }
            long timestamp = readLong();
            String topic = string();
            // One topic string for all the changes of a file, not one per change.
            topic = topics.computeIfAbsent(topic, t -> t);
            int partition = varint();
            long offset = readLong();
            return new MembershipChange(previous, distinctId, action, email, firstName, lastName, phoneNumber,
                    properties, timestamp, topic, partition, offset);
        }

        private Object value() throws IOException {
            int tag = readUnsignedByte();
            return switch (tag) {
                case NULL -> null;
                case STRING -> string();
                case LONG -> readLong();
                case INT -> readInt();
                case DOUBLE -> Double.longBitsToDouble(readLong());
                case TRUE -> Boolean.TRUE;
                case FALSE -> Boolean.FALSE;
                case MAP -> {
                    int size = varint();
                    Map<String, Object> map = new LinkedHashMap<>(size * 2);
                    for (int i = 0; i < size; i++) {
                        map.put(string(), value());
                    }
                    yield map;
                }
                case LIST -> {
                    int size = varint();
                    List<Object> list = new ArrayList<>(size);
                    for (int i = 0; i < size; i++) {
                        list.add(value());
                    }
                    yield list;
                }
                case FLOAT -> Float.intBitsToFloat(readInt());
                case SHORT -> readShort();
                case BYTE -> readByte();
                case BIG_DECIMAL -> new BigDecimal(Objects.requireNonNull(string()));
                case BIG_INTEGER -> new BigInteger(Objects.requireNonNull(string()));
                case BYTES -> {
                    byte[] bytes = new byte[varint()];
                    readFully(bytes, bytes.length);
                    yield bytes;
                }
                case OTHER -> JSON.readValue(string(), Object.class);
                default -> throw new IOException("Damaged snapshot spill file: unknown value tag " + tag);
            };
        }

        private String string() throws IOException {
            int length = varint() - 1;
            if (length < 0) {
                return null;
            }
            if (limit - position >= length) {
                String text = new String(buffer, position, length, StandardCharsets.UTF_8);
                position += length;
                return text;
            }
            byte[] bytes = new byte[length];
            readFully(bytes, length);
            return new String(bytes, StandardCharsets.UTF_8);
        }

        private int varint() throws IOException {
            int value = 0;
            for (int shift = 0; shift < 32; shift += 7) {
                int b = readUnsignedByte();
                value |= (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    return value;
                }
            }
            throw new IOException("Damaged snapshot spill file: a number longer than 5 bytes");
        }
    }
}
