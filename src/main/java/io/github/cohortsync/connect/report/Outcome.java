package io.github.cohortsync.connect.report;

/** What became of one member's change in one sync, as the report topic names it. */
public enum Outcome {
    /** The destination accepted it. */
    DELIVERED("delivered"),
    /** The destination refused this member (alone, or inside an accepted call). */
    REJECTED("rejected"),
    /** Left out: the delivery journal shows it was delivered before a restart or rebalance. */
    SKIPPED_ALREADY_DELIVERED("skipped_already_delivered"),
    /** Replaced by a later change of the same member of the same cohort before it was sent. */
    NETTED_AWAY("netted_away"),
    /** dry.run=true: built into a page and counted, never sent. */
    DRY_RUN("dry_run");

    private final String wireName;

    Outcome(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }
}
