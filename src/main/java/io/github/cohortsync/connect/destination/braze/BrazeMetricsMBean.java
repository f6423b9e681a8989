package io.github.cohortsync.connect.destination.braze;

/** Braze attribute mode's own JMX attributes, under {@code kafka.connect.cohortsync:type=braze-metrics}. */
public interface BrazeMetricsMBean {
    /** Users this task knows to be in more cohorts than braze.attribute.max.length: Braze truncates their array. */
    long getUsersOverAttributeMaxLength();

    /** The braze.attribute.max.length the count is against. */
    long getAttributeMaxLength();
}
