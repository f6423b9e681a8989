package io.github.cohortsync.connect.it.standin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;

import okhttp3.Credentials;

/**
 * A webhook receiver in the Mixpanel cohort-sync format, on 127.0.0.1. It checks every request against the
 * documented shape (SPEC section 5, reference/destinations.md) and records each problem as a violation, keeps
 * each cohort's membership as a real receiver would (applying only the pages it accepted), and answers
 * {@code {"action": <same>, "status": "success"}} unless scripted otherwise.
 *
 * <p>It is strict as real receivers of the format are (docs/compatibility.md, section Webhook): a request that breaks
 * one of their rules (each cited next to it in {@link #refusals}) is answered HTTP 400 with the failure
 * envelope, as Flagsmith answers, and recorded as a violation. Optionally ({@link #requireMembersFirst}) it answers
 * 404 "Cohort not found." to a diff of a cohort it never received as {@code members}, as Flagsmith does.
 */
public final class WebhookReceiver extends StandIn {
    public static final String PATH = "/hooks/cohorts";
    public static final int MAX_MEMBERS_PER_PAGE = 1000;

    private static final Set<String> ACTIONS = Set.of("add_members", "remove_members", "members");
    private static final List<String> PARAMETER_KEYS = List.of("mixpanel_project_id", "mixpanel_cohort_id",
            "mixpanel_cohort_name", "mixpanel_cohort_description", "mixpanel_session_id", "page_info", "members");
    private static final List<String> MEMBER_KEYS = List.of("email", "mixpanel_distinct_id", "first_name",
            "last_name", "phone_number");

    private final Deque<Reply> script = new ArrayDeque<>();
    private Reply defaultReply = Reply.success();
    private String expectedAuthorization;
    private final List<Delivery> deliveries = new ArrayList<>();
    private final Map<String, Set<String>> membership = new TreeMap<>();
    /** Cohorts received as an accepted {@code members} page (Flagsmith creates its cohort on those only). */
    private final Set<String> cohortsCreated = new HashSet<>();
    private boolean membersFirst;
    /** Distinct ids whose presence anywhere in a request gets the whole request refused; empty by default. */
    private final Set<String> badMembers = new HashSet<>();
    private final List<Delivery> refusedForBadMembers = new ArrayList<>();
    private final List<Delivery> cohortNotFound = new ArrayList<>();

    private WebhookReceiver() {
    }

    public static WebhookReceiver start() throws IOException {
        return listen(new WebhookReceiver());
    }

    /** The URL to configure as {@code webhook.url}. */
    @Override
    public String url() {
        return super.url() + PATH;
    }

    /** The URL as seen from another host that reaches this one's port as {@code host} (e.g. from a container). */
    public String url(String host) {
        return "http://" + host + ":" + port() + PATH;
    }

    /** Answers the next requests with these replies, in order, before falling back to the default reply. */
    public synchronized void enqueue(Reply... replies) {
        script.addAll(Arrays.asList(replies));
    }

    /** The reply to every request once the scripted ones are used up (initially {@link Reply#success()}). */
    public synchronized void answerByDefault(Reply reply) {
        defaultReply = reply;
    }

    /** From now on, a request without exactly this HTTP Basic authorization is a violation. */
    public synchronized void expectBasicAuth(String user, String password) {
        expectedAuthorization = Credentials.basic(user, password);
    }

    /**
     * From now on, answers {@code add_members} and {@code remove_members} of a cohort never received as
     * {@code members} with HTTP 404 and the failure envelope, message "Cohort not found.", code 404: Flagsmith's
     * MixpanelCohortSyncView looks the cohort up for a diff and 404s when it does not exist; it creates cohorts
     * only from a {@code members} page. Off by default.
     */
    public synchronized void requireMembersFirst(boolean on) {
        membersFirst = on;
    }

    /**
     * From now on, answers any request holding one of these distinct ids with HTTP 400 and the failure envelope
     * ("Invalid payload"), accepting nothing of it. This models receivers that validate the whole body before
     * applying any of it: Flagsmith's MixpanelCohortSyncView validates the page with one serializer
     * ({@code members} a ListSerializer, {@code many=True}), so one member it refuses (see {@link #refusals},
     * e.g. a distinct id over 1024 bytes) gets the whole request answered 400 and none of its members applied.
     */
    public synchronized void refuseRequestsHolding(Set<String> distinctIds) {
        badMembers.addAll(distinctIds);
    }

    /** The requests refused by {@link #refuseRequestsHolding}'s rule. */
    public synchronized List<Delivery> refusedForBadMembers() {
        return List.copyOf(refusedForBadMembers);
    }

    /** The same as {@code requireMembersFirst(true)}. */
    public void requireMembersFirst() {
        requireMembersFirst(true);
    }

    /** The requests answered 404 "Cohort not found." by {@link #requireMembersFirst(boolean)}'s rule. */
    public synchronized List<Delivery> cohortNotFound() {
        return List.copyOf(cohortNotFound);
    }

    /** Every request received, in arrival order. */
    public synchronized List<Delivery> deliveries() {
        return List.copyOf(deliveries);
    }

    /** The requests this receiver accepted (answered 2xx with status success). */
    public List<Delivery> accepted() {
        return deliveries().stream().filter(Delivery::accepted).toList();
    }

    public synchronized int requestCount() {
        return deliveries.size();
    }

    /** The current members per cohort, from the accepted pages; cohorts without members are left out. */
    public synchronized Map<String, Set<String>> membership() {
        return nonEmptyCopy(membership);
    }

    /** How many times each page (by Idempotency-Key) was accepted. */
    public Map<String, Long> acceptedCountByKey() {
        return accepted().stream().collect(Collectors.groupingBy(Delivery::idempotencyKey, TreeMap::new,
                Collectors.counting()));
    }

    /** True when any request (accepted or not) named this user. */
    public boolean sawUser(String user) {
        return deliveries().stream().anyMatch(d -> d.distinctIds().contains(user));
    }

    /** The cohort ids named by any request. */
    public Set<String> cohortsSeen() {
        return deliveries().stream().map(Delivery::cohortId).filter(Objects::nonNull)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /**
     * Problems with the page sequences of the accepted requests. Mixpanel defines {@code total_pages} as the number
     * of messages for the given {@code mixpanel_session_id}, so per session id: one cohort, one action, one
     * total_pages, pages 1..total_pages each accepted exactly once, one Idempotency-Key per page. And per
     * Idempotency-Key: the same content (action, cohort, members) every time it is sent (also across restarts, in
     * another session), and the same body every time within one session. Meaningful once every sync was delivered.
     */
    public List<String> pagingProblems() {
        List<String> problems = new ArrayList<>();
        List<Delivery> all = deliveries();
        Map<String, List<Delivery>> byKey = all.stream().filter(d -> d.idempotencyKey() != null)
                .collect(Collectors.groupingBy(Delivery::idempotencyKey, LinkedHashMap::new, Collectors.toList()));
        byKey.forEach((key, sends) -> {
            if (sends.stream().map(Delivery::content).distinct().count() > 1) {
                problems.add("Idempotency-Key " + key + " was sent with different content");
            }
            Map<String, Set<JsonNode>> bodiesBySession = new LinkedHashMap<>();
            sends.forEach(d -> bodiesBySession.computeIfAbsent(d.sessionId(), s -> new HashSet<>()).add(d.body()));
            bodiesBySession.forEach((session, bodies) -> {
                if (bodies.size() > 1) {
                    problems.add("Idempotency-Key " + key + " was sent with different bodies in session " + session);
                }
            });
        });
        Map<String, List<Delivery>> groups = all.stream().filter(Delivery::accepted)
                .collect(Collectors.groupingBy(Delivery::sessionId, LinkedHashMap::new, Collectors.toList()));
        groups.forEach((group, pages) -> {
            Set<String> cohorts = pages.stream().map(Delivery::cohortId).collect(Collectors.toSet());
            Set<String> actions = pages.stream().map(Delivery::action).collect(Collectors.toSet());
            Set<Integer> totals = pages.stream().map(Delivery::totalPages).collect(Collectors.toSet());
            if (cohorts.size() != 1) {
                problems.add("session " + group + " spans cohorts " + cohorts);
            }
            if (actions.size() != 1) {
                problems.add("session " + group + " spans actions " + actions);
            }
            if (totals.size() != 1) {
                problems.add("session " + group + " has different total_pages " + totals);
                return;
            }
            int total = totals.iterator().next();
            List<Integer> counts = pages.stream().map(Delivery::pageCount).sorted().toList();
            List<Integer> wanted = IntStream.rangeClosed(1, total).boxed().toList();
            if (!counts.equals(wanted)) {
                problems.add("session " + group + " accepted page_count " + counts + ", expected " + wanted);
            }
            long keys = pages.stream().map(Delivery::idempotencyKey).distinct().count();
            if (keys != pages.size()) {
                problems.add("session " + group + " has " + pages.size() + " accepted pages but " + keys
                        + " Idempotency-Keys");
            }
        });
        return problems;
    }

    /** One request as received, with the reply it got. */
    public record Delivery(int index, String method, String path, String contentType, String idempotencyKey,
                           String authorization, JsonNode body, int replyCode, boolean accepted,
                           long receivedNanos) {

        public String action() {
            return text(body == null ? null : body.get("action"));
        }

        /**
         * What the Idempotency-Key stands for: the action, the cohort id and which members (their distinct ids), not
         * the session. (A member's other fields may differ in a resend after a restart, e.g. the email a removal
         * borrowed from a change that was committed meanwhile: it is the same change.)
         */
        public List<Object> content() {
            return Arrays.asList(action(), cohortId(), new TreeSet<>(distinctIds()));
        }

        public JsonNode parameters() {
            return body == null ? null : body.get("parameters");
        }

        public String cohortId() {
            return parameter("mixpanel_cohort_id");
        }

        public String cohortName() {
            return parameter("mixpanel_cohort_name");
        }

        public String cohortDescription() {
            return parameter("mixpanel_cohort_description");
        }

        public String projectId() {
            return parameter("mixpanel_project_id");
        }

        public String sessionId() {
            return parameter("mixpanel_session_id");
        }

        public int pageCount() {
            return pageInfo("page_count");
        }

        public int totalPages() {
            return pageInfo("total_pages");
        }

        /** The members' distinct ids, in page order. */
        public List<String> distinctIds() {
            List<String> ids = new ArrayList<>();
            for (JsonNode member : members()) {
                ids.add(text(member.get("mixpanel_distinct_id")));
            }
            return ids;
        }

        /** The member objects of the page. */
        public List<JsonNode> members() {
            JsonNode params = parameters();
            JsonNode members = params == null ? null : params.get("members");
            if (members == null || !members.isArray()) {
                return List.of();
            }
            List<JsonNode> list = new ArrayList<>();
            members.forEach(list::add);
            return list;
        }

        private String parameter(String name) {
            JsonNode params = parameters();
            return params == null ? null : text(params.get(name));
        }

        private int pageInfo(String name) {
            JsonNode params = parameters();
            JsonNode info = params == null ? null : params.get("page_info");
            return info == null || !info.path(name).isInt() ? -1 : info.get(name).asInt();
        }

        private static String text(JsonNode node) {
            return node == null || node.isNull() ? null : node.asText();
        }
    }

    /** How the receiver answers one request. */
    public static final class Reply {
        private final int code;
        private final String body;
        private final String retryAfter;
        private final String failureMessage;
        private final String failureCode;
        /** A network fault instead of a normal answer; null for a normal answer. */
        private final Fault fault;

        private final long delayMs;

        private Reply(int code, String body, String retryAfter, String failureMessage, String failureCode) {
            this(code, body, retryAfter, failureMessage, failureCode, null, 0);
        }

        private Reply(int code, String body, String retryAfter, String failureMessage, String failureCode,
                      Fault fault, long delayMs) {
            this.code = code;
            this.body = body;
            this.retryAfter = retryAfter;
            this.failureMessage = failureMessage;
            this.failureCode = failureCode;
            this.fault = fault;
            this.delayMs = delayMs;
        }

        /** Reads the request, then closes the connection without answering (the client sees a reset). */
        public static Reply connectionReset() {
            return new Reply(0, null, null, null, null, Fault.RESET, 0);
        }

        /** Reads the request and answers 200 only after {@code delayMs}: longer than the client's read timeout. */
        public static Reply lateAnswer(long delayMs) {
            return new Reply(0, null, null, null, null, Fault.late(delayMs), 0);
        }

        /** Reads the request and never answers; the connection stays open until the client gives up. */
        public static Reply noAnswer() {
            return new Reply(0, null, null, null, null, Fault.STALL, 0);
        }

        /** HTTP 200 {@code {"action": <same>, "status": "success"}}. */
        public static Reply success() {
            return new Reply(200, null, null, null, null);
        }

        /**
         * HTTP 201 {@code {"action": <same>, "status": "success"}}: usertour's receiver is a NestJS {@code @Post}
         * handler (apps/server/src/integration/integration.controller.ts), which answers 201 unless told otherwise.
         */
        public static Reply created() {
            return new Reply(201, null, null, null, null);
        }

        /**
         * HTTP {@code status} with the failure envelope {@code {"action", "status": "failure", "error": {"message",
         * "code": status}}} (a number): Flagsmith's MixpanelCohortSyncView._failure answers with the code as the
         * HTTP status too.
         */
        public static Reply failureEnvelope(int status, String message) {
            return new Reply(status, null, null, message, String.valueOf(status));
        }

        /** This HTTP status with an empty body (add one with {@link #withBody}). */
        public static Reply httpStatus(int code) {
            return new Reply(code, "", null, null, null);
        }

        /** HTTP 200 {@code {"action": <same>, "status": "failure", "error": {"message", "code"}}}. */
        public static Reply failure(String message, String errorCode) {
            return new Reply(200, null, null, message, errorCode);
        }

        public Reply withBody(String text) {
            return new Reply(code, text, retryAfter, failureMessage, failureCode, fault, delayMs);
        }

        public Reply withRetryAfter(String header) {
            return new Reply(code, body, header, failureMessage, failureCode, fault, delayMs);
        }

        /** The same answer, sent {@code delayMs} after the request was read: a slow but working receiver. */
        public Reply withDelay(long delayMs) {
            return new Reply(code, body, retryAfter, failureMessage, failureCode, fault, delayMs);
        }

        boolean accepts() {
            return fault == null && code >= 200 && code < 300 && failureMessage == null && body == null;
        }

        MockResponse toResponse(String action) {
            if (fault != null) {
                return fault.response(action);
            }
            String text = body;
            if (text == null) {
                ObjectNode answer = JSON.createObjectNode();
                answer.put("action", action);
                if (failureMessage == null) {
                    answer.put("status", "success");
                } else {
                    answer.put("status", "failure");
                    ObjectNode error = answer.putObject("error").put("message", failureMessage);
                    if (code != 200 && failureCode != null && failureCode.matches("\\d{3}")) {
                        // The envelope of a non-200 failure carries its code as a number, as Flagsmith's does.
                        error.put("code", Integer.parseInt(failureCode));
                    } else {
                        error.put("code", failureCode);
                    }
                }
                text = answer.toString();
            }
            MockResponse.Builder response = new MockResponse.Builder().code(code)
                    .setHeader("Content-Type", "application/json").body(text);
            if (retryAfter != null) {
                response.setHeader("Retry-After", retryAfter);
            }
            if (delayMs > 0) {
                response.headersDelay(delayMs, TimeUnit.MILLISECONDS);
            }
            return response.build();
        }

        @Override
        public String toString() {
            if (fault != null) {
                return "Reply[" + fault + "]";
            }
            return "Reply[" + code + (failureMessage != null ? " failure " + failureMessage : "")
                    + (retryAfter != null ? " Retry-After " + retryAfter : "") + "]";
        }
    }

    /** A network-level fault; the receiver never applies the page it was sent with. */
    private record Fault(String name, long delayMs) {
        static final Fault RESET = new Fault("connection reset", 0);
        static final Fault STALL = new Fault("no answer", 0);

        static Fault late(long delayMs) {
            return new Fault("answer after " + delayMs + " ms", delayMs);
        }

        MockResponse response(String action) {
            if (this == RESET) {
                return new MockResponse.Builder().onResponseStart(new SocketEffect.CloseSocket()).build();
            }
            if (this == STALL) {
                return new MockResponse.Builder().onResponseStart(SocketEffect.Stall.INSTANCE).build();
            }
            return new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json")
                    .body("{\"action\":\"" + action + "\",\"status\":\"success\"}")
                    .headersDelay(delayMs, TimeUnit.MILLISECONDS).build();
        }

        @Override
        public String toString() {
            return name;
        }
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
        String text = request.getBody() == null ? "" : request.getBody().utf8();
        JsonNode body = null;
        String parseError = null;
        try {
            body = text.isEmpty() ? null : JSON.readTree(text);
        } catch (IOException e) {
            parseError = e.getMessage();
        }
        String action = body != null && body.path("action").isTextual() ? body.get("action").asText() : null;
        synchronized (this) {
            int index = deliveries.size();
            List<String> problems = new ArrayList<>();
            if (parseError != null) {
                problems.add("body is not JSON: " + parseError);
            }
            validate(request, body, problems);
            List<String> refused = refusals(body);
            problems.addAll(refused);
            boolean notFound = false;
            int bad = body == null ? -1 : firstBadMember(body);
            Reply reply;
            if (!refused.isEmpty()) {
                reply = Reply.failureEnvelope(400, "Invalid payload: " + String.join("; ", refused));
            } else if (bad >= 0) {
                reply = Reply.failureEnvelope(400, "Invalid payload: members[" + bad + "] is not valid");
            } else if (membersFirst && body != null && ("add_members".equals(action)
                    || "remove_members".equals(action))
                    && !cohortsCreated.contains(text(body.path("parameters").get("mixpanel_cohort_id")))) {
                notFound = true;
                reply = Reply.failureEnvelope(404, "Cohort not found.");
            } else {
                reply = script.isEmpty() ? defaultReply : script.poll();
            }
            boolean accepted = reply.accepts();
            Delivery delivery = new Delivery(index, request.getMethod(), request.getUrl().encodedPath(),
                    request.getHeaders().get("Content-Type"), request.getHeaders().get("Idempotency-Key"),
                    request.getHeaders().get("Authorization"), body, reply.code, accepted, System.nanoTime());
            deliveries.add(delivery);
            if (notFound) {
                cohortNotFound.add(delivery);
            }
            if (bad >= 0 && refused.isEmpty()) {
                refusedForBadMembers.add(delivery);
            }
            problems.forEach(p -> violations.add("request #" + index + " (" + action + " of cohort "
                    + delivery.cohortId() + "): " + p));
            if (accepted && body != null) {
                apply(delivery);
            }
            return reply.toResponse(action);
        }
    }

    /** The index of the request's first member in the bad set ({@link #refuseRequestsHolding}); -1 if none. */
    private int firstBadMember(JsonNode body) {
        int i = 0;
        for (JsonNode member : body.path("parameters").path("members")) {
            if (badMembers.contains(member.path("mixpanel_distinct_id").asText())) {
                return i;
            }
            i++;
        }
        return -1;
    }

    private void apply(Delivery delivery) {
        String cohort = delivery.cohortId();
        if (cohort == null || delivery.action() == null) {
            return;
        }
        Set<String> members = membership.computeIfAbsent(cohort, id -> new HashSet<>());
        if ("members".equals(delivery.action())) {
            cohortsCreated.add(cohort);
        }
        switch (delivery.action()) {
            case "add_members" -> members.addAll(delivery.distinctIds());
            case "remove_members" -> delivery.distinctIds().forEach(members::remove);
            case "members" -> {
                if (delivery.pageCount() == 1) {
                    members.clear();
                }
                members.addAll(delivery.distinctIds());
            }
            default -> {
                // reported as a violation
            }
        }
    }

    private void validate(RecordedRequest request, JsonNode body, List<String> problems) {
        if (!"POST".equals(request.getMethod())) {
            problems.add("method is " + request.getMethod() + ", expected POST");
        }
        if (!PATH.equals(request.getUrl().encodedPath())) {
            problems.add("path is " + request.getUrl().encodedPath() + ", expected " + PATH);
        }
        String contentType = request.getHeaders().get("Content-Type");
        if (contentType == null || !contentType.toLowerCase().startsWith("application/json")) {
            problems.add("Content-Type is " + contentType + ", expected application/json");
        }
        String key = request.getHeaders().get("Idempotency-Key");
        if (key == null || key.isBlank()) {
            problems.add("no Idempotency-Key header");
        }
        if (expectedAuthorization != null
                && !expectedAuthorization.equals(request.getHeaders().get("Authorization"))) {
            problems.add("Authorization header is not the configured HTTP Basic credentials");
        }
        if (body == null) {
            problems.add("empty body");
            return;
        }
        if (!body.isObject()) {
            problems.add("body is not a JSON object");
            return;
        }
        Set<String> topLevel = new TreeSet<>();
        body.fieldNames().forEachRemaining(topLevel::add);
        if (!topLevel.equals(Set.of("action", "parameters"))) {
            problems.add("top-level keys are " + topLevel + ", expected [action, parameters]");
        }
        JsonNode action = body.get("action");
        if (action == null || !action.isTextual() || !ACTIONS.contains(action.asText())) {
            problems.add("action is " + action + ", expected one of " + new TreeSet<>(ACTIONS));
        }
        JsonNode params = body.get("parameters");
        if (params == null || !params.isObject()) {
            problems.add("parameters is missing or not an object");
            return;
        }
        for (String name : PARAMETER_KEYS) {
            if (!params.has(name)) {
                problems.add("parameters." + name + " is missing");
            }
        }
        requireText(params, "mixpanel_cohort_id", problems);
        requireText(params, "mixpanel_cohort_name", problems);
        requireText(params, "mixpanel_session_id", problems);
        textOrNull(params, "mixpanel_project_id", problems);
        textOrNull(params, "mixpanel_cohort_description", problems);
        JsonNode pageInfo = params.get("page_info");
        if (pageInfo == null || !pageInfo.isObject()) {
            problems.add("parameters.page_info is missing or not an object");
        } else {
            JsonNode total = pageInfo.get("total_pages");
            JsonNode count = pageInfo.get("page_count");
            if (total == null || !total.isInt() || total.asInt() < 1) {
                problems.add("page_info.total_pages is " + total + ", expected an integer >= 1");
            } else if (count == null || !count.isInt() || count.asInt() < 1 || count.asInt() > total.asInt()) {
                problems.add("page_info.page_count is " + count + ", expected 1.." + total.asInt());
            }
        }
        JsonNode members = params.get("members");
        if (members == null || !members.isArray()) {
            problems.add("parameters.members is missing or not an array");
            return;
        }
        // An empty page is valid (Flagsmith: allow_empty=True, "a first sync of an empty cohort has no members"):
        // the connector sends one when every member of a page was rejected, to keep the page's place.
        if (members.size() > MAX_MEMBERS_PER_PAGE) {
            problems.add("page has " + members.size() + " members, expected 0.." + MAX_MEMBERS_PER_PAGE);
        }
        Set<String> ids = new HashSet<>();
        int i = 0;
        for (JsonNode member : members) {
            String where = "members[" + i++ + "]";
            if (!member.isObject()) {
                problems.add(where + " is not an object");
                continue;
            }
            for (String name : MEMBER_KEYS) {
                if (!member.has(name)) {
                    problems.add(where + "." + name + " is missing");
                }
            }
            JsonNode id = member.get("mixpanel_distinct_id");
            if (id == null || !id.isTextual() || id.asText().isBlank()) {
                problems.add(where + ".mixpanel_distinct_id is " + id + ", expected a non-empty string");
            } else if (!ids.add(id.asText())) {
                problems.add(where + " repeats mixpanel_distinct_id " + id.asText() + " within the page");
            }
            for (String name : List.of("email", "first_name", "last_name", "phone_number")) {
                textOrNull(member, name, problems, where + ".");
            }
        }
    }

    /**
     * The rules real receivers enforce with a 400, each with its source; empty when the request passes them all.
     * Flagsmith: api/cohorts/serializers.py (MixpanelWebhookSerializer and the serializers it nests; a DRF
     * CharField refuses null, a missing value and a blank or whitespace-only string by default) and
     * api/cohorts/views.py (MixpanelCohortSyncView: an invalid payload is answered 400 with the envelope).
     * usertour: apps/server/src/integration/integration.dto.ts (MixpanelWebhookDto / MixpanelParametersDto,
     * class-validator, checked by the global ValidationPipe of apps/server/src/configure-app.ts).
     */
    private List<String> refusals(JsonNode body) {
        List<String> refusals = new ArrayList<>();
        if (body == null || !body.isObject()) {
            // Flagsmith: a body that is not JSON is a ParseError, answered 400 "Invalid payload.".
            refusals.add("the body is not a JSON object (Flagsmith: 400 Invalid payload)");
            return refusals;
        }
        // Both: action is one of members, add_members, remove_members (ChoiceField / @IsEnum).
        if (!ACTIONS.contains(text(body.get("action")))) {
            refusals.add("action is not one of " + new TreeSet<>(ACTIONS) + " (Flagsmith ChoiceField, usertour"
                    + " @IsEnum)");
        }
        JsonNode params = body.get("parameters");
        if (params == null || !params.isObject()) {
            refusals.add("parameters is not an object (Flagsmith, usertour @IsObject)");
            return refusals;
        }
        // Flagsmith: mixpanel_cohort_id = CharField(max_length=255); usertour: @IsString.
        nonBlankText(params, "mixpanel_cohort_id", 255, "Flagsmith CharField(max_length=255), usertour @IsString",
                refusals);
        // Flagsmith: mixpanel_cohort_name = CharField(max_length=2000); usertour: @IsString.
        nonBlankText(params, "mixpanel_cohort_name", 2000,
                "Flagsmith CharField(max_length=2000), usertour @IsString", refusals);
        // usertour: mixpanel_project_id is @IsString without @IsOptional (null or missing is refused). Flagsmith
        // does not read it; the connector sends a non-blank one, so blank is refused here too.
        nonBlankText(params, "mixpanel_project_id", Integer.MAX_VALUE, "usertour @IsString", refusals);
        JsonNode members = params.get("members");
        // Flagsmith: members = MixpanelMemberSerializer(many=True, allow_empty=True, max_length=1000);
        // usertour: @IsArray.
        if (members == null || !members.isArray()) {
            refusals.add("parameters.members is not an array (Flagsmith, usertour @IsArray)");
            return refusals;
        }
        if (members.size() > 1000) {
            refusals.add("parameters.members has " + members.size() + " members, over 1000 (Flagsmith"
                    + " max_length=1000)");
        }
        int i = 0;
        for (JsonNode member : members) {
            // Flagsmith: mixpanel_distinct_id = CharField validated to at most 1024 UTF-8 bytes (its identifiers
            // are DynamoDB sort keys).
            JsonNode id = member.get("mixpanel_distinct_id");
            if (id == null || !id.isTextual() || id.asText().isBlank()) {
                refusals.add("members[" + i + "].mixpanel_distinct_id is not a non-blank string (Flagsmith"
                        + " CharField)");
            } else if (id.asText().getBytes(StandardCharsets.UTF_8).length > 1024) {
                refusals.add("members[" + i + "].mixpanel_distinct_id is over 1024 UTF-8 bytes (Flagsmith)");
            }
            i++;
        }
        return refusals;
    }

    private void nonBlankText(JsonNode params, String name, int maxCharacters, String source,
                              List<String> refusals) {
        JsonNode value = params.get(name);
        if (value == null || !value.isTextual() || value.asText().isBlank()) {
            refusals.add("parameters." + name + " is " + value + ", not a non-blank string (" + source + ")");
        } else if (value.asText().codePointCount(0, value.asText().length()) > maxCharacters) {
            refusals.add("parameters." + name + " is over " + maxCharacters + " characters (" + source + ")");
        }
    }

    private void requireText(JsonNode node, String name, List<String> problems) {
        JsonNode value = node.get(name);
        if (value != null && (!value.isTextual() || value.asText().isBlank())) {
            problems.add("parameters." + name + " is " + value + ", expected a non-empty string");
        }
    }

    private void textOrNull(JsonNode node, String name, List<String> problems) {
        textOrNull(node, name, problems, "parameters.");
    }

    private void textOrNull(JsonNode node, String name, List<String> problems, String prefix) {
        JsonNode value = node.get(name);
        if (value != null && !value.isNull() && !value.isTextual()) {
            problems.add(prefix + name + " is " + value + ", expected a string or null");
        }
    }

    private static String text(JsonNode node) {
        return node == null || node.isNull() ? null : node.asText();
    }

    /** For assertions' messages. */
    @Override
    public String toString() {
        return "WebhookReceiver[" + url() + ", " + requestCount() + " requests, membership sizes "
                + membership().entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
                        e -> e.getValue().size(), (a, b) -> a, TreeMap::new)) + "]";
    }
}
