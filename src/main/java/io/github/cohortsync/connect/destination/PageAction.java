package io.github.cohortsync.connect.destination;

/** What a page tells the destination about its members. */
public enum PageAction {
    /** The cohort's whole membership (a full sync). */
    MEMBERS("members"),
    /** Users who entered the cohort since the last sync. */
    ADD_MEMBERS("add_members"),
    /** Users who left the cohort since the last sync. */
    REMOVE_MEMBERS("remove_members");

    private final String wireName;

    PageAction(String wireName) {
        this.wireName = wireName;
    }

    /** The action's name in the webhook format. */
    public String wireName() {
        return wireName;
    }
}
