package io.github.cohortsync.connect.destination;

import io.github.cohortsync.connect.record.MembershipChange;

/**
 * A member the destination refused inside an otherwise successful call, with its reason and, where the destination
 * gave one, its code (an HTTP status or a vendor's error code; null otherwise).
 */
public record Rejection(MembershipChange member, String reason, String code) {
    public Rejection(MembershipChange member, String reason) {
        this(member, reason, null);
    }
}
