package io.github.cohortsync.connect.sync.send;

import java.util.List;

import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.Rejection;

/**
 * Told on the sender thread of each page the destination accepted, before the job counts it as delivered, with the
 * calls it took in the try that delivered it (1 when it passed at once, more with retries).
 */
@FunctionalInterface
public interface DeliveryListener {
    DeliveryListener NONE = (job, page, rejections, attempts) -> { };

    void delivered(SyncJob job, Page page, List<Rejection> rejections, int attempts);
}
