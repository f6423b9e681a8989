package io.github.cohortsync.connect.sync.journal;

import java.util.function.LongBinaryOperator;

/**
 * An open-addressing map from long to long, without boxing, for the delivery journal's live entries. The key 0
 * marks free slots, so it is kept apart.
 */
final class LongLongMap {
    private static final long FREE = 0L;

    private long[] keys = new long[16];
    private long[] values = new long[16];
    private int size;
    private boolean hasZero;
    private long zeroValue;

    int size() {
        return size + (hasZero ? 1 : 0);
    }

    /** The value of {@code key}, or {@code missing}. */
    long get(long key, long missing) {
        if (key == FREE) {
            return hasZero ? zeroValue : missing;
        }
        int mask = keys.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            long k = keys[i];
            if (k == key) {
                return values[i];
            }
            if (k == FREE) {
                return missing;
            }
        }
    }

    void put(long key, long value) {
        if (key == FREE) {
            hasZero = true;
            zeroValue = value;
            return;
        }
        if ((size + 1) * 2 > keys.length) {
            resize(keys.length * 2);
        }
        int mask = keys.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            long k = keys[i];
            if (k == key) {
                values[i] = value;
                return;
            }
            if (k == FREE) {
                keys[i] = key;
                values[i] = value;
                size++;
                return;
            }
        }
    }

    void remove(long key) {
        if (key == FREE) {
            hasZero = false;
            return;
        }
        int mask = keys.length - 1;
        int i = slot(key, mask);
        while (keys[i] != key) {
            if (keys[i] == FREE) {
                return;
            }
            i = (i + 1) & mask;
        }
        // Backward-shift deletion keeps every probe sequence unbroken.
        int gap = i;
        for (int j = (gap + 1) & mask; keys[j] != FREE; j = (j + 1) & mask) {
            int home = slot(keys[j], mask);
            if (((j - home) & mask) >= ((j - gap) & mask)) {
                keys[gap] = keys[j];
                values[gap] = values[j];
                gap = j;
            }
        }
        keys[gap] = FREE;
        size--;
    }

    /** Keeps the entries for which {@code keep} (key, value) is not 0. */
    void retain(LongBinaryOperator keep) {
        LongLongMap kept = new LongLongMap();
        forEach((key, value) -> {
            if (keep.applyAsLong(key, value) != 0) {
                kept.put(key, value);
            }
            return 0;
        });
        keys = kept.keys;
        values = kept.values;
        size = kept.size;
        hasZero = kept.hasZero;
        zeroValue = kept.zeroValue;
    }

    void forEach(LongBinaryOperator action) {
        if (hasZero) {
            action.applyAsLong(FREE, zeroValue);
        }
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != FREE) {
                action.applyAsLong(keys[i], values[i]);
            }
        }
    }

    void clear() {
        keys = new long[16];
        values = new long[16];
        size = 0;
        hasZero = false;
    }

    private void resize(int capacity) {
        long[] oldKeys = keys;
        long[] oldValues = values;
        keys = new long[capacity];
        values = new long[capacity];
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != FREE) {
                put(oldKeys[i], oldValues[i]);
            }
        }
    }

    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }
}
