package io.github.cohortsync.connect.record;

/** Whether a user entered or left a cohort. */
public enum Action {
    ADD,
    REMOVE
}
