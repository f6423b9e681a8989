package io.github.cohortsync.connect.record;

/**
 * A cohort as the destinations see it: its id and the descriptive fields of the latest record that named it.
 * Name, description and project id may be null (a tombstone carries only ids).
 */
public record CohortRef(String id, String name, String description, String projectId) {

    /** This ref with the blanks filled from an older one of the same cohort. */
    public CohortRef orElse(CohortRef older) {
        if (older == null) {
            return this;
        }
        return new CohortRef(id,
                name != null ? name : older.name,
                description != null ? description : older.description,
                projectId != null ? projectId : older.projectId);
    }
}
