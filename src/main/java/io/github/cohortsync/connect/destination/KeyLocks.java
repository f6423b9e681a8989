package io.github.cohortsync.connect.destination;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

import io.github.cohortsync.connect.delivery.TransientDeliveryException;

/**
 * One lock per key (a list or cohort name), for a destination whose pages may be sent concurrently and that sets up
 * something once per key (creating a list, naming a cohort): the second page waits for the first instead of setting
 * it up again. Holds one small lock per key for the life of the task, like the caches it guards.
 */
public final class KeyLocks {
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

    /**
     * Takes the key's lock; the caller unlocks it. A wait interrupted by a cancel ends as a transient failure (with
     * the interrupt kept), which the sender treats as cancelled.
     */
    public ReentrantLock lock(String key, String what) throws TransientDeliveryException {
        ReentrantLock lock = locks.computeIfAbsent(key, k -> new ReentrantLock());
        try {
            lock.lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransientDeliveryException(what + " was interrupted", -1, e);
        }
        return lock;
    }
}
