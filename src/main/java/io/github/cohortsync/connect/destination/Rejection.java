package io.github.cohortsync.connect.destination;

import io.github.cohortsync.connect.record.MembershipChange;

/** A member the destination refused inside an otherwise successful call, with its reason. */
public record Rejection(MembershipChange member, String reason) {
}
