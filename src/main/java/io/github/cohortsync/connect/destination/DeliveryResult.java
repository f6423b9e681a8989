package io.github.cohortsync.connect.destination;

import java.util.List;

/** The outcome of a delivered page: every member accepted, or some rejected with reasons. */
public record DeliveryResult(List<Rejection> rejections) {
    private static final DeliveryResult ALL_ACCEPTED = new DeliveryResult(List.of());

    public DeliveryResult {
        rejections = List.copyOf(rejections);
    }

    public static DeliveryResult allAccepted() {
        return ALL_ACCEPTED;
    }
}
