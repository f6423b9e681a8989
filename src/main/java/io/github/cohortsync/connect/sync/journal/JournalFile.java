package io.github.cohortsync.connect.sync.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The delivery journal's binary file, and nothing of its rules: a 16-byte header (magic, version, the destination's
 * fingerprint), then blocks of fixed-size entries (offset, member hash, kind), each block prefixed by its length and
 * CRC-32 so that a torn or damaged tail is recognised and cut off on reading.
 */
final class JournalFile {
    private static final Logger log = LoggerFactory.getLogger(JournalFile.class);

    static final int MAGIC = 0x43534A31; // "CSJ1"
    static final int VERSION = 1;
    static final int HEADER_BYTES = 16;
    static final int ENTRY_BYTES = 17;
    static final int BLOCK_OVERHEAD = 8;

    static final byte SENDING = 0;
    static final byte ADDED = 1;
    static final byte REMOVED = 2;
    /**
     * Offset marker: an offset preCommit returned (member field {@link #COMMIT_MARK}), or the first offset a session
     * read (member field {@link #START_MARK}). Files written before session starts were told apart hold
     * {@code COMMIT_MARK} in both; a reader that ignores the member field sees every mark as before.
     */
    static final byte MARK = 3;
    static final long COMMIT_MARK = 0L;
    static final long START_MARK = 1L;
    /**
     * The Kafka id of the topic the file was written for: offset field its most significant 64 bits, member field its
     * least significant ones. Files of versions before it hold none; those versions ignore the kind when reading.
     */
    static final byte TOPIC_ID = 4;

    /** Takes the entries read back from a file, in the order they were written. */
    @FunctionalInterface
    interface EntryReader {
        void entry(long offset, long member, byte kind);
    }

    /** A block being built: room for its length and CRC, then entries. */
    static final class Block {
        private ByteBuffer buffer;
        private int entries;

        Block(int expectedEntries) {
            buffer = ByteBuffer.allocate(BLOCK_OVERHEAD + Math.min(expectedEntries, 4096) * ENTRY_BYTES);
            buffer.position(BLOCK_OVERHEAD);
        }

        void add(long offset, long member, byte kind) {
            if (buffer.remaining() < ENTRY_BYTES) {
                ByteBuffer bigger = ByteBuffer.allocate(buffer.capacity() * 2);
                buffer.flip();
                bigger.put(buffer);
                buffer = bigger;
            }
            buffer.putLong(offset).putLong(member).put(kind);
            entries++;
        }

        int entries() {
            return entries;
        }

        /** Reads the block's entries back, in order, without writing it. */
        void forEach(EntryReader reader) {
            int end = buffer.position();
            for (int at = BLOCK_OVERHEAD; at < end; at += ENTRY_BYTES) {
                reader.entry(buffer.getLong(at), buffer.getLong(at + 8), buffer.get(at + 16));
            }
        }
    }

    private final Path path;
    /** What the file is of, for logs (a topic partition). */
    private final Object owner;
    private FileChannel channel;

    JournalFile(Path path, Object owner) {
        this.path = path;
        this.owner = owner;
    }

    /** Opens (creating) and locks the file; false when another process holds its lock. */
    boolean openLocked() throws IOException {
        channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock = channel.tryLock();
        return lock != null;
    }

    /**
     * Reads every whole, intact block into {@code reader} and cuts off a torn or damaged tail; a file without this
     * version's header for this fingerprint is started afresh, empty.
     *
     * @return the number of entries read
     */
    int read(long fingerprint, EntryReader reader) throws IOException {
        long size = channel.size();
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        if (size >= HEADER_BYTES) {
            readFully(header, 0);
            header.flip();
        }
        if (size < HEADER_BYTES || header.getInt() != MAGIC || header.getInt() != VERSION
                || header.getLong() != fingerprint) {
            if (size > 0) {
                log.info("Delivery journal of {} was written by another version or for another destination:"
                        + " starting it afresh", owner);
            }
            writeHeader(fingerprint);
            return 0;
        }
        int entries = 0;
        long position = HEADER_BYTES;
        ByteBuffer lengths = ByteBuffer.allocate(BLOCK_OVERHEAD);
        while (position + BLOCK_OVERHEAD <= size) {
            int read = readBlock(lengths, position, size, reader);
            if (read < 0) {
                break;
            }
            entries += read;
            position += BLOCK_OVERHEAD + (long) read * ENTRY_BYTES;
        }
        if (position < size) {
            log.info("Delivery journal of {}: ignoring {} bytes of a torn or damaged tail", owner, size - position);
            channel.truncate(position);
        }
        channel.position(position);
        return entries;
    }

    /** Reads the block at {@code position}; the number of its entries, or -1 when it is torn or damaged. */
    private int readBlock(ByteBuffer lengths, long position, long size, EntryReader reader) throws IOException {
        lengths.clear();
        readFully(lengths, position);
        lengths.flip();
        int length = lengths.getInt();
        int crc = lengths.getInt();
        if (length <= 0 || length % ENTRY_BYTES != 0 || position + BLOCK_OVERHEAD + length > size) {
            return -1;
        }
        ByteBuffer payload = ByteBuffer.allocate(length);
        readFully(payload, position + BLOCK_OVERHEAD);
        CRC32 check = new CRC32();
        check.update(payload.array());
        if ((int) check.getValue() != crc) {
            return -1;
        }
        payload.flip();
        while (payload.hasRemaining()) {
            reader.entry(payload.getLong(), payload.getLong(), payload.get());
        }
        return length / ENTRY_BYTES;
    }

    private void readFully(ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new IOException("unexpected end of " + path);
            }
        }
    }

    /** Empties the file down to a fresh header. */
    void writeHeader(long fingerprint) throws IOException {
        channel.truncate(0);
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).putInt(MAGIC).putInt(VERSION).putLong(fingerprint);
        header.flip();
        channel.position(0);
        writeFully(header);
    }

    /** Appends the block with its length and CRC, forced to disk when {@code force}. */
    void append(Block block, boolean force) throws IOException {
        ByteBuffer buffer = block.buffer;
        int length = buffer.position() - BLOCK_OVERHEAD;
        CRC32 crc = new CRC32();
        crc.update(buffer.array(), BLOCK_OVERHEAD, length);
        buffer.putInt(0, length).putInt(4, (int) crc.getValue());
        // Written from a duplicate, so the block's own positions stay for reading its entries back.
        ByteBuffer out = buffer.duplicate();
        out.flip();
        writeFully(out);
        if (force) {
            channel.force(false);
        }
    }

    private void writeFully(ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /** After a failed write: empties, closes and deletes the file, so that nobody reads a journal with gaps. */
    void discard() {
        try {
            channel.truncate(0);
        } catch (IOException | RuntimeException ignored) {
            // Deleting below is what matters.
        }
        closeQuietly();
        try {
            Files.deleteIfExists(path);
        } catch (IOException ex) {
            log.warn("Could not delete the delivery journal of {} after a failed write ({}); delete {} before"
                    + " the partition is assigned to a task again", owner, ex.toString(), path);
        }
    }

    void closeQuietly() {
        try {
            if (channel != null) {
                channel.close();
            }
        } catch (IOException e) {
            log.debug("Closing the delivery journal of {}: {}", owner, e.toString());
        }
    }
}
