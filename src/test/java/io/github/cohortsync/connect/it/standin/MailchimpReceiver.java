package io.github.cohortsync.connect.it.standin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;

/**
 * Plays the static segments (tags) of one Mailchimp audience, as Mailchimp's Marketing API reference documents them
 * (mailchimp.com/developer/marketing/api/list-segments/; the same fields in the reference as mirrored at
 * withone.ai/knowledge/mailchimp-marketing, "Add a Segment to a List" and "Batch Add or Remove Members from a
 * List's Static Segment"). Rules, each a violation when broken:
 * <ul>
 * <li>HTTP Basic auth with any user name and the API key as password ("Authentication"); else 401.</li>
 * <li>{@code GET /3.0/lists/{list_id}/segments}: {@code count} at most 1000, {@code offset} paging, {@code type}
 * filters; answers {@code segments[]} and {@code total_items}. An unknown list id answers 404.</li>
 * <li>{@code POST /3.0/lists/{list_id}/segments}: {@code name} required; {@code static_segment} (an empty array
 * makes an empty static segment) cannot go with {@code options}. A second segment of the same name is a violation
 * here (the connector must find the first).</li>
 * <li>{@code POST /3.0/lists/{list_id}/segments/{segment_id}}: {@code members_to_add} / {@code members_to_remove}
 * hold at most 500 emails each ("Max 500 members can be sent"; over it, 400); the answer is
 * {@code members_added}, {@code members_removed}, {@code errors[]} of {@code {email_addresses, error}},
 * {@code total_added}, {@code total_removed}, {@code error_count}. An email that is not a valid address is
 * reported in {@code errors[]} and not added; every valid address is taken as a member of the audience, unless
 * {@link #strictAudience()}: then, as the reference says, emails that are not contacts of the audience are ignored.</li>
 * <li>{@code GET /3.0/lists/{list_id}/segments/{segment_id}/members}: {@code count} at most 1000, {@code offset}
 * paging; answers {@code members[]} (each with {@code email_address}) and {@code total_items} (Marketing API
 * reference, "List members in segment").</li>
 * <li>Batch subscribe {@code POST /3.0/lists/{list_id}}: {@code members[]} of {@code {email_address, status}}, at
 * most 500 ("Up to 500 members may be added or updated with each API call": Marketing API reference, as in the
 * Rust crate mailchimp's {@code ListBatchParam}), status one of subscribed, unsubscribed, cleaned, pending,
 * transactional; {@code update_existing}. An existing contact is reported in {@code errors[]} with
 * {@code error_code} {@code ERROR_CONTACT_EXISTS} (Mailchimp's own Node client tests; Haskell and Python clients
 * match on it) and left unchanged; with {@code update_existing: true} its status would change, which the connector
 * must never ask for (a violation here: it would change someone's consent). An invalid address is reported with
 * {@code ERROR_GENERIC}. Answers {@code new_members}, {@code updated_members}, {@code errors[]},
 * {@code total_created}, {@code total_updated}, {@code error_count}.</li>
 * <li>{@link #throttleNext}: the next segment batch calls are answered 429 with Retry-After: 1, changing nothing;
 * {@link #throttled} counts them.</li>
 * </ul>
 */
public final class MailchimpReceiver extends ThrottlingStandIn {
    /** The API key and audience the stand-in accepts. */
    public static final String API_KEY = "0123mailchimp-s3cret-us21";
    public static final String LIST_ID = "a1b2c3d4e5";
    private static final Pattern SEGMENT =
            Pattern.compile("/3\\.0/lists/([^/]+)(/segments(?:/(\\d+)(/members)?)?)?");
    private static final Set<String> STATUSES = Set.of("subscribed", "unsubscribed", "cleaned", "pending",
            "transactional");
    private static final Pattern VALID_EMAIL = Pattern.compile("[^@\\s]+@[^@\\s]+\\.[^@\\s]+");

    private final Map<Long, String> names = new LinkedHashMap<>();
    private final Map<String, Set<String>> members = new TreeMap<>();
    private final Map<String, Integer> creations = new HashMap<>();
    /** The audience's contacts and their status, when it is modelled ({@link #strictAudience()}). */
    private final Map<String, String> contacts = new TreeMap<>();
    private boolean strict;
    private long nextId = 101;
    private int batchCalls;

    public static MailchimpReceiver start() throws IOException {
        return listen(new MailchimpReceiver());
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
        synchronized (this) {
            if (!authorized(request.getHeaders().get("Authorization"))) {
                violations.add("wrong Authorization");
                return problem(401, "API Key Invalid");
            }
            Matcher path = SEGMENT.matcher(request.getUrl().encodedPath());
            if (!path.matches()) {
                violations.add("unexpected " + request.getMethod() + " " + request.getUrl().encodedPath());
                return problem(404, "Resource Not Found");
            }
            if (!LIST_ID.equals(path.group(1))) {
                return problem(404, "Resource Not Found");
            }
            try {
                if ("GET".equals(request.getMethod()) && path.group(2) != null && path.group(3) == null) {
                    return list(request);
                }
                if ("GET".equals(request.getMethod()) && path.group(4) != null) {
                    return segmentMembers(Long.parseLong(path.group(3)), request);
                }
                JsonNode body = JSON.readTree(bodyBytes(request));
                if ("POST".equals(request.getMethod()) && path.group(2) == null) {
                    return subscribe(body);
                }
                if ("POST".equals(request.getMethod()) && path.group(3) == null) {
                    return create(body);
                }
                if ("POST".equals(request.getMethod()) && path.group(4) == null) {
                    return batch(Long.parseLong(path.group(3)), body);
                }
            } catch (IOException e) {
                violations.add("unparsable body");
                return problem(400, "Invalid Resource");
            }
            violations.add("unexpected " + request.getMethod() + " " + request.getUrl().encodedPath());
            return problem(405, "Method Not Allowed");
        }
    }

    /** Basic auth: any user name, the key as password. */
    private static boolean authorized(String header) {
        if (header == null || !header.startsWith("Basic ")) {
            return false;
        }
        String decoded = new String(Base64.getDecoder().decode(header.substring(6)), StandardCharsets.UTF_8);
        int colon = decoded.indexOf(':');
        return colon >= 0 && API_KEY.equals(decoded.substring(colon + 1));
    }

    private MockResponse list(RecordedRequest request) {
        int count = Integer.parseInt(Objects.requireNonNullElse(request.getUrl().queryParameter("count"), "10"));
        int offset = Integer.parseInt(Objects.requireNonNullElse(request.getUrl().queryParameter("offset"), "0"));
        if (count > 1000) {
            violations.add("count " + count + " over 1000");
            return problem(400, "Invalid Resource");
        }
        String type = request.getUrl().queryParameter("type");
        if (type != null && !"static".equals(type)) {
            violations.add("listed segments of type " + type);
        }
        ObjectNode answer = JSON.createObjectNode();
        ArrayNode segments = answer.putArray("segments");
        List<Long> ids = new ArrayList<>(names.keySet());
        for (int i = offset; i < Math.min(ids.size(), offset + count); i++) {
            segments.addObject().put("id", ids.get(i)).put("name", names.get(ids.get(i))).put("type", "static")
                    .put("list_id", LIST_ID).put("member_count", members.get(names.get(ids.get(i))).size());
        }
        answer.put("list_id", LIST_ID).put("total_items", ids.size());
        return json(200, answer);
    }

    private MockResponse create(JsonNode body) {
        String name = body.path("name").asText("");
        if (name.isBlank() || !body.path("static_segment").isArray() || body.has("options")) {
            violations.add("bad segment creation " + body);
            return problem(400, "Invalid Resource");
        }
        if (creations.merge(name, 1, Integer::sum) > 1) {
            violations.add("segment '" + name + "' created twice");
        }
        long id = nextId++;
        names.put(id, name);
        members.computeIfAbsent(name, n -> new TreeSet<>());
        return json(200, JSON.createObjectNode().put("id", id).put("name", name).put("type", "static")
                .put("member_count", 0).put("list_id", LIST_ID));
    }

    private MockResponse batch(long id, JsonNode body) {
        String name = names.get(id);
        if (name == null) {
            return problem(404, "Resource Not Found");
        }
        if (throttling()) {
            // Mailchimp answers 429 when an account goes over its limits (Marketing API "Errors").
            return new MockResponse(429, Headers.of("Content-Type", "application/problem+json", "Retry-After", "1"),
                    "{\"title\": \"Too Many Requests\", \"status\": 429}");
        }
        batchCalls++;
        JsonNode add = body.path("members_to_add");
        JsonNode remove = body.path("members_to_remove");
        if (add.size() > 500 || remove.size() > 500) {
            violations.add("batch of " + add.size() + " adds and " + remove.size() + " removes");
            return problem(400, "Invalid Resource");
        }
        ObjectNode answer = JSON.createObjectNode();
        ArrayNode added = answer.putArray("members_added");
        ArrayNode removed = answer.putArray("members_removed");
        ArrayNode errors = answer.putArray("errors");
        List<String> invalid = new ArrayList<>();
        for (JsonNode email : add) {
            if (!VALID_EMAIL.matcher(email.asText()).matches()) {
                invalid.add(email.asText());
            } else if (strict && !contacts.containsKey(email.asText().toLowerCase())) {
                continue; // "emails not on the list are ignored"
            } else if (members.get(name).add(email.asText().toLowerCase())) {
                added.addObject().put("email_address", email.asText());
            }
        }
        for (JsonNode email : remove) {
            if (members.get(name).remove(email.asText().toLowerCase())) {
                removed.addObject().put("email_address", email.asText());
            }
        }
        if (!invalid.isEmpty()) {
            ObjectNode error = errors.addObject();
            invalid.forEach(error.putArray("email_addresses")::add);
            error.put("error", "Invalid email address");
        }
        answer.put("total_added", added.size()).put("total_removed", removed.size())
                .put("error_count", invalid.size());
        return json(200, answer);
    }

    private MockResponse segmentMembers(long id, RecordedRequest request) {
        String name = names.get(id);
        if (name == null) {
            return problem(404, "Resource Not Found");
        }
        int count = Integer.parseInt(Objects.requireNonNullElse(request.getUrl().queryParameter("count"), "10"));
        int offset = Integer.parseInt(Objects.requireNonNullElse(request.getUrl().queryParameter("offset"), "0"));
        if (count > 1000) {
            violations.add("count " + count + " over 1000");
            return problem(400, "Invalid Resource");
        }
        List<String> emails = new ArrayList<>(members.get(name));
        ObjectNode answer = JSON.createObjectNode();
        ArrayNode page = answer.putArray("members");
        for (int i = offset; i < Math.min(emails.size(), offset + count); i++) {
            page.addObject().put("email_address", emails.get(i)).put("list_id", LIST_ID);
        }
        answer.put("total_items", emails.size());
        return json(200, answer);
    }

    private MockResponse subscribe(JsonNode body) {
        JsonNode batch = body.path("members");
        if (!batch.isArray() || batch.size() > 500) {
            violations.add("batch subscribe of " + batch.size() + " members");
            return problem(400, "Invalid Resource");
        }
        boolean updateExisting = body.path("update_existing").asBoolean(false);
        ObjectNode answer = JSON.createObjectNode();
        ArrayNode created = answer.putArray("new_members");
        ArrayNode updated = answer.putArray("updated_members");
        ArrayNode errors = answer.putArray("errors");
        for (JsonNode member : batch) {
            String email = member.path("email_address").asText("");
            String status = member.path("status").asText("");
            if (!STATUSES.contains(status)) {
                violations.add("batch subscribe status '" + status + "'");
                return problem(400, "Invalid Resource");
            }
            String key = email.toLowerCase();
            if (!VALID_EMAIL.matcher(email).matches()) {
                errors.addObject().put("email_address", email).put("error_code", "ERROR_GENERIC")
                        .put("error", email + " looks fake or invalid, please enter a real email address.");
            } else if (contacts.containsKey(key) && !updateExisting) {
                errors.addObject().put("email_address", email).put("error_code", "ERROR_CONTACT_EXISTS")
                        .put("error", email + " is already a list member. Use PUT to insert or update list members.");
            } else if (contacts.containsKey(key)) {
                violations.add("update_existing changed the status (consent) of an existing contact");
                contacts.put(key, status);
                updated.addObject().put("email_address", email).put("status", status);
            } else {
                contacts.put(key, status);
                created.addObject().put("email_address", email).put("status", status);
            }
        }
        answer.put("total_created", created.size()).put("total_updated", updated.size())
                .put("error_count", errors.size());
        return json(200, answer);
    }

    /** Mailchimp's errors are problem documents (type, title, status, detail, instance). */
    private static MockResponse problem(int status, String title) {
        return new MockResponse(status, Headers.of("Content-Type", "application/problem+json"),
                "{\"type\": \"https://mailchimp.com/developer/marketing/docs/errors/\", \"title\": \"" + title
                        + "\", \"status\": " + status + ", \"detail\": \"" + title + "\", \"instance\": \"\"}");
    }

    /** Members (lower-case emails) per segment name. */
    public synchronized Map<String, Set<String>> members() {
        Map<String, Set<String>> copy = new TreeMap<>();
        members.forEach((name, emails) -> copy.put(name, new TreeSet<>(emails)));
        return copy;
    }

    /**
     * Models the audience: from now on a segment call ignores emails that are not contacts, as Mailchimp does, and
     * batch subscribe adds contacts.
     */
    public synchronized MailchimpReceiver strictAudience() {
        strict = true;
        return this;
    }

    /** A contact of the audience with this status, as if it had been there before the test. */
    public synchronized void contact(String email, String status) {
        contacts.put(email.toLowerCase(), status);
    }

    /** The audience's contacts (lower-case emails) and their status. */
    public synchronized Map<String, String> contacts() {
        return new TreeMap<>(contacts);
    }

    /** A static segment with these members, as if an earlier sync had made it. */
    public synchronized void prefill(String segment, String... emails) {
        long id = nextId++;
        names.put(id, segment);
        members.computeIfAbsent(segment, n -> new TreeSet<>()).addAll(List.of(emails));
    }

    /** How often each segment name was created. */
    public synchronized Map<String, Integer> creations() {
        return new TreeMap<>(creations);
    }

    public synchronized int batchCalls() {
        return batchCalls;
    }
}
