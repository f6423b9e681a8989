package io.github.cohortsync.connect.sync.send;

import java.util.List;

import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.Rejection;

/** Told on the sender thread of each page the destination accepted, before the job counts it as delivered. */
@FunctionalInterface
public interface DeliveryListener {
    DeliveryListener NONE = (job, page, rejections) -> { };

    void delivered(SyncJob job, Page page, List<Rejection> rejections);
}
