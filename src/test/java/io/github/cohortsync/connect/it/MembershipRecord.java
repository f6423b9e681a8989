package io.github.cohortsync.connect.it;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Test data builder for one cohort-membership record as a producer writes it: a JSON key
 * {@code {"cohort_id", "distinct_id"}} and a JSON value (SPEC section 2), or a null value for a tombstone.
 * Users get deterministic profile fields derived from their id, so tests can check what the receiver got.
 */
public final class MembershipRecord {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, Object> key = new LinkedHashMap<>();
    private final Map<String, Object> value = new LinkedHashMap<>();
    private boolean tombstone;
    private String rawKey;
    private String rawValue;
    private boolean raw;
    private Integer partition;

    private MembershipRecord() {
    }

    /** {@code user} enters cohort {@code cohortId}. */
    public static MembershipRecord add(String cohortId, String user) {
        MembershipRecord r = new MembershipRecord();
        r.key.put("cohort_id", cohortId);
        r.key.put("distinct_id", user);
        r.value.put("cohort_id", cohortId);
        r.value.put("cohort_name", cohortName(cohortId));
        r.value.put("cohort_description", "Users of " + cohortName(cohortId));
        r.value.put("distinct_id", user);
        r.value.put("action", "add");
        r.value.put("email", email(user));
        r.value.put("first_name", firstName(user));
        r.value.put("last_name", "Tester");
        r.value.put("phone_number", phone(user));
        return r;
    }

    /** {@code user} leaves cohort {@code cohortId}: an explicit {@code "action": "remove"} record. */
    public static MembershipRecord remove(String cohortId, String user) {
        return add(cohortId, user).with("action", "remove");
    }

    /** {@code user} leaves cohort {@code cohortId}: a null value keyed by cohort and user. */
    public static MembershipRecord tombstone(String cohortId, String user) {
        MembershipRecord r = add(cohortId, user);
        r.tombstone = true;
        return r;
    }

    /** A record with exactly this key and value text (either may be null), e.g. a bad record. */
    public static MembershipRecord raw(String keyJson, String valueJson) {
        MembershipRecord r = new MembershipRecord();
        r.raw = true;
        r.rawKey = keyJson;
        r.rawValue = valueJson;
        return r;
    }

    /** Sets (or with a null value, writes null into) a field of the value. */
    public MembershipRecord with(String field, Object fieldValue) {
        value.put(field, fieldValue);
        return this;
    }

    public MembershipRecord without(String field) {
        value.remove(field);
        return this;
    }

    /** Sends the record to this partition instead of the one the key hashes to. */
    public MembershipRecord inPartition(int p) {
        this.partition = p;
        return this;
    }

    public Integer partition() {
        return partition;
    }

    /** The cohort id, or null for a raw record. */
    public String cohortId() {
        return raw ? null : (String) key.get("cohort_id");
    }

    /** The user, or null for a raw record. */
    public String user() {
        return raw ? null : (String) key.get("distinct_id");
    }

    /** True when this record makes its user a member; false when it removes the user. */
    public boolean isAdd() {
        return !tombstone && !"remove".equals(value.get("action"));
    }

    public String keyJson() {
        return raw ? rawKey : toJson(key);
    }

    public String valueJson() {
        if (raw) {
            return rawValue;
        }
        return tombstone ? null : toJson(value);
    }

    @Override
    public String toString() {
        return keyJson() + " -> " + valueJson();
    }

    public static String cohortName(String cohortId) {
        return "Cohort " + cohortId + " – ünïcödé ✓";
    }

    public static String email(String user) {
        return user + "@example.com";
    }

    public static String firstName(String user) {
        return "First " + user;
    }

    public static String phone(String user) {
        return "+1555" + Math.abs(user.hashCode() % 10_000_000);
    }

    /** {@code prefix-00042}: sortable, readable user ids. */
    public static String user(String prefix, int n) {
        return String.format("%s-%05d", prefix, n);
    }

    private static String toJson(Map<String, Object> map) {
        try {
            return JSON.writeValueAsString(map);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
