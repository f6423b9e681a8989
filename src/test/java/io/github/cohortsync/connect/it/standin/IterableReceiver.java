package io.github.cohortsync.connect.it.standin;


import java.io.IOException;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;


/**
 * Plays Iterable's list API: lists may share a name (as in Iterable), subscribers are keyed by userId or email.
 * Any (un)subscribe to a list other than the lowest id of its name is a violation: racing tasks must settle on
 * the same list. Every request body is checked against {@link IterableRequestSchema} (the Swagger's request
 * definitions). Answers are in the current shape of the Swagger's UserBulkUpdateListResponse: per-user failures
 * in {@code failedUpdates}, repeated in the deprecated top-level invalidEmails/invalidUserIds. Errors are the
 * Swagger's IterableApiResponse {@code {"code", "msg"}}.
 */
public final class IterableReceiver extends StandIn {
    /** The API key the stand-in accepts. */
    public static final String API_KEY = "iterable-s3cret-key";
    private final Map<Long, String> names = new TreeMap<>();
    private final Map<Long, Set<String>> members = new HashMap<>();
    /** Emails answered as invalid although they have an '@', until accepted again (a fixable cause). */
    private final Set<String> refused = new HashSet<>();
    private long nextId = 1000;
    /** Subscribers per call above which the answer is BatchTooLarge; none when not set. */
    private int maxBatch = Integer.MAX_VALUE;
    /** Every n-th bulk call is answered 429 RateLimitExceeded; never when 0. */
    private int rateLimitEvery;
    private int bulkCalls;
    private int batchTooLargeAnswers;
    private int rateLimitAnswers;
    /** List exports allowed per window (Iterable: 5 per minute per project); unlimited when 0. */
    private int exportsPerWindow;
    private long exportWindowMs;
    private final java.util.ArrayDeque<Long> exportTimes = new java.util.ArrayDeque<>();
    private int exportRateLimitAnswers;
    private int exports;

    public static IterableReceiver start() throws IOException {
        return listen(new IterableReceiver());
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
        synchronized (this) {
            if (!API_KEY.equals(request.getHeaders().get("Api-Key"))) {
                violations.add("wrong Api-Key");
                return json(401, JSON.createObjectNode().put("code", "BadApiKey"));
            }
            String call = request.getMethod() + " " + request.getUrl().encodedPath();
            try {
                JsonNode body = request.getBody() == null || request.getBody().size() == 0 ? null
                        : JSON.readTree(request.getBody().utf8());
                IterableRequestSchema schema = switch (call) {
                    case "POST /api/lists" -> IterableRequestSchema.CREATE_LIST;
                    case "POST /api/lists/subscribe" -> IterableRequestSchema.SUBSCRIBE;
                    case "POST /api/lists/unsubscribe" -> IterableRequestSchema.UNSUBSCRIBE;
                    default -> null;
                };
                if (schema != null) {
                    violations.addAll(schema.violations(body));
                }
                return switch (call) {
                    case "GET /api/lists" -> lists();
                    case "POST /api/lists" -> create(body.path("name").asText());
                    case "POST /api/lists/subscribe" -> bulk(body, true);
                    case "POST /api/lists/unsubscribe" -> bulk(body, false);
                    case "GET /api/lists/getUsers" -> export(request.getUrl().queryParameter("listId"));
                    default -> {
                        violations.add("unexpected " + call);
                        yield json(404, JSON.createObjectNode());
                    }
                };
            } catch (IOException e) {
                violations.add("unparsable body of " + call);
                return json(400, JSON.createObjectNode().put("code", "BadJsonBody"));
            }
        }
    }

    private MockResponse lists() {
        ArrayNode lists = JSON.createArrayNode();
        names.forEach((id, name) -> lists.addObject().put("id", id).put("name", name)
                .put("listType", "Standard"));
        ObjectNode answer = JSON.createObjectNode();
        answer.set("lists", lists);
        return json(200, answer);
    }

    private MockResponse create(String name) {
        long id = nextId++; // increasing, as Iterable's list ids are
        names.put(id, name);
        members.put(id, new TreeSet<>());
        return json(200, JSON.createObjectNode().put("listId", id));
    }

    /**
     * Limits list exports to {@code perWindow} per {@code windowMs}, answering 429 RateLimitExceeded beyond:
     * Iterable's Swagger gives GET /api/lists/getUsers "5 requests/minute, per project"; tests scale the window.
     */
    public synchronized IterableReceiver exportLimit(int perWindow, long windowMs) {
        this.exportsPerWindow = perWindow;
        this.exportWindowMs = windowMs;
        return this;
    }

    public synchronized int exportRateLimitAnswers() {
        return exportRateLimitAnswers;
    }

    public synchronized int exports() {
        return exports;
    }

    /** The list export: one subscriber email per line (subscribers known by user id only are left out). */
    private MockResponse export(String listId) {
        if (exportsPerWindow > 0) {
            long now = System.nanoTime() / 1_000_000;
            while (!exportTimes.isEmpty() && exportTimes.peekFirst() <= now - exportWindowMs) {
                exportTimes.pollFirst();
            }
            if (exportTimes.size() >= exportsPerWindow) {
                exportRateLimitAnswers++;
                long retryAfterSeconds = Math.max(1, (exportTimes.peekFirst() + exportWindowMs - now + 999) / 1000);
                return rateLimitExceeded(Long.toString(retryAfterSeconds));
            }
            exportTimes.addLast(now);
        }
        exports++;
        Set<String> subscribers = listId == null ? null : members.get(Long.parseLong(listId));
        if (subscribers == null) {
            violations.add("list export of unknown list " + listId);
            return json(400, JSON.createObjectNode().put("code", "BadParams"));
        }
        StringBuilder lines = new StringBuilder();
        subscribers.stream().filter(s -> s.startsWith("email:"))
                .forEach(s -> lines.append(s.substring("email:".length())).append('\n'));
        return new MockResponse.Builder().code(200).addHeader("Content-Type", "text/plain")
                .body(lines.toString()).build();
    }

    /** Creates the list {@code name} with these subscribers, as if another tool had filled it. */
    public synchronized void prefill(String name, Collection<String> emails) {
        long id = nextId++;
        names.put(id, name);
        members.put(id, new TreeSet<>());
        emails.forEach(email -> members.get(id).add("email:" + email));
    }

    /** Answers BatchTooLarge to calls of more than {@code max} subscribers (Iterable publishes no limit). */
    public synchronized IterableReceiver maxBatch(int max) {
        this.maxBatch = max;
        return this;
    }

    /** Answers every {@code n}-th bulk call with 429 RateLimitExceeded. */
    public synchronized IterableReceiver rateLimitEvery(int n) {
        this.rateLimitEvery = n;
        return this;
    }

    public synchronized int batchTooLargeAnswers() {
        return batchTooLargeAnswers;
    }

    public synchronized int rateLimitAnswers() {
        return rateLimitAnswers;
    }

    /**
     * Which failedUpdates category an identifier falls in. The categories and their meaning are the Swagger's
     * (definition FailedUserUpdates); which identifiers fall in them is this stand-in's device: an email without
     * '@' or a userId with a trailing space is malformed (the Swagger names trailing spaces as making a userId
     * invalid), and identifiers containing "unknown", "forgotten", "conflict" or "baddata" play a user that
     * does not exist, was GDPR-forgotten, clashes with another identity or has invalid data.
     */
    private static String failure(String identifier, boolean email) {
        if (email ? !identifier.contains("@") : identifier.endsWith(" ")) {
            return "invalid";
        }
        for (String category : List.of("unknown", "forgotten", "conflict", "baddata")) {
            if (identifier.contains(category)) {
                return switch (category) {
                    case "unknown" -> "notFound";
                    case "baddata" -> "invalidData";
                    default -> category;
                };
            }
        }
        return null;
    }

    private MockResponse bulk(JsonNode body, boolean subscribe) {
        bulkCalls++;
        if (rateLimitEvery > 0 && bulkCalls % rateLimitEvery == 0) {
            rateLimitAnswers++;
            return rateLimitExceeded("0");
        }
        if (body.path("subscribers").size() > maxBatch) {
            batchTooLargeAnswers++;
            // The status of BatchTooLarge is not documented: 400, so that only the code can make it a split.
            return json(400, JSON.createObjectNode().put("code", "BatchTooLarge").put("msg", "Batch too large"));
        }
        long listId = body.path("listId").asLong();
        String name = names.get(listId);
        if (name == null) {
            // A list id Iterable does not know is a bad parameter.
            violations.add("unknown list " + listId);
            return json(400, JSON.createObjectNode().put("code", "BadParams").put("msg", "Invalid list"));
        }
        long lowest = names.entrySet().stream().filter(e -> e.getValue().equals(name))
                .mapToLong(Map.Entry::getKey).min().orElseThrow();
        if (listId != lowest) {
            violations.add("list " + listId + " used instead of " + lowest + " for " + name);
        }
        ObjectNode failedUpdates = JSON.createObjectNode();
        ArrayNode deprecatedEmails = JSON.createArrayNode();
        ArrayNode deprecatedUserIds = JSON.createArrayNode();
        int success = 0;
        int failed = 0;
        for (JsonNode subscriber : body.path("subscribers")) {
            boolean byEmail = !subscriber.hasNonNull("userId");
            String identifier = byEmail ? subscriber.path("email").asText() : subscriber.get("userId").asText();
            String category = byEmail && refused.contains(identifier) ? "invalid" : failure(identifier, byEmail);
            if (category != null) {
                failed++;
                String field = category + (byEmail ? "Emails" : "UserIds");
                (failedUpdates.has(field) ? (ArrayNode) failedUpdates.get(field) : failedUpdates.putArray(field))
                        .add(identifier);
                (byEmail ? deprecatedEmails : deprecatedUserIds).add(identifier);
                continue;
            }
            if (subscribe && !byEmail && !subscriber.path("preferUserId").asBoolean()) {
                // Without preferUserId, an email-based project creates no user known by userId alone.
                violations.add("userId subscriber without preferUserId");
            }
            String key = (byEmail ? "email:" : "userId:") + identifier;
            success++;
            if (subscribe) {
                members.get(listId).add(key);
            } else {
                members.get(listId).remove(key);
            }
        }
        ObjectNode answer = JSON.createObjectNode().put("successCount", success).put("failCount", failed);
        answer.set("failedUpdates", failedUpdates);
        answer.set("invalidEmails", deprecatedEmails);
        answer.set("invalidUserIds", deprecatedUserIds);
        return json(200, answer);
    }

    /** 429 with Iterable's RateLimitExceeded answer. */
    private static MockResponse rateLimitExceeded(String retryAfterSeconds) {
        return new MockResponse.Builder().code(429).addHeader("Content-Type", "application/json")
                .addHeader("Retry-After", retryAfterSeconds).body(JSON.createObjectNode()
                        .put("code", "RateLimitExceeded").put("msg", "Rate limit exceeded").toString()).build();
    }

    /** Per list name, the subscribers of its lowest-id list; lists without members are left out. */
    public synchronized Map<String, Set<String>> membership() {
        Map<String, Set<String>> byName = new TreeMap<>();
        names.forEach((id, name) -> {
            if (!byName.containsKey(name) && !members.get(id).isEmpty()) {
                byName.put(name, new TreeSet<>(members.get(id)));
            }
        });
        return byName;
    }

    /** Answers this email as invalid (Iterable's {@code invalidEmails}) until {@link #acceptAll()}. */
    public synchronized void refuse(String email) {
        refused.add(email);
    }

    public synchronized void acceptAll() {
        refused.clear();
    }
}
