package io.github.cohortsync.connect.it;

import java.io.IOException;
import java.net.InetAddress;
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
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import okhttp3.Credentials;

/**
 * A webhook receiver in the Mixpanel cohort-sync format, on 127.0.0.1. It checks every request against the
 * documented shape (SPEC section 5, reference/destinations.md) and records each problem as a violation, keeps
 * each cohort's membership as a real receiver would (applying only the pages it accepted), and answers
 * {@code {"action": <same>, "status": "success"}} unless scripted otherwise.
 */
public final class WebhookReceiver implements AutoCloseable {
    public static final String PATH = "/hooks/cohorts";
    public static final int MAX_MEMBERS_PER_PAGE = 1000;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> ACTIONS = Set.of("add_members", "remove_members", "members");
    private static final List<String> PARAMETER_KEYS = List.of("mixpanel_project_id", "mixpanel_cohort_id",
            "mixpanel_cohort_name", "mixpanel_cohort_description", "mixpanel_session_id", "page_info", "members");
    private static final List<String> MEMBER_KEYS = List.of("email", "mixpanel_distinct_id", "first_name",
            "last_name", "phone_number");

    private final MockWebServer server = new MockWebServer();
    private final Object lock = new Object();
    private final Deque<Reply> script = new ArrayDeque<>();
    private Reply defaultReply = Reply.success();
    private String expectedAuthorization;
    private final List<Delivery> deliveries = new ArrayList<>();
    private final List<String> violations = new ArrayList<>();
    private final Map<String, Set<String>> membership = new TreeMap<>();
    /** Cohorts this receiver accepted a 'members' page of: the ones a strict receiver knows. */
    private final Set<String> receivedAsMembers = new HashSet<>();
    private boolean membersFirst;
    private final List<Delivery> cohortNotFound = new ArrayList<>();

    private WebhookReceiver() {
    }

    public static WebhookReceiver start() throws IOException {
        WebhookReceiver receiver = new WebhookReceiver();
        receiver.server.setDispatcher(receiver.new Handler());
        receiver.server.start(InetAddress.getByName("127.0.0.1"), 0);
        return receiver;
    }

    /** The URL to configure as {@code webhook.url}. */
    public String url() {
        return "http://127.0.0.1:" + server.getPort() + PATH;
    }

    /** Answers the next requests with these replies, in order, before falling back to the default reply. */
    public void enqueue(Reply... replies) {
        synchronized (lock) {
            script.addAll(Arrays.asList(replies));
        }
    }

    /** The reply to every request once the scripted ones are used up (initially {@link Reply#success()}). */
    public void answerByDefault(Reply reply) {
        synchronized (lock) {
            defaultReply = reply;
        }
    }

    /** From now on, a request without exactly this HTTP Basic authorization is a violation. */
    public void expectBasicAuth(String user, String password) {
        synchronized (lock) {
            expectedAuthorization = Credentials.basic(user, password);
        }
    }

    /**
     * From now on, behaves as Flagsmith's Mixpanel receiver: an add_members or remove_members page of a cohort
     * never received as 'members' is answered 404 with the failure envelope ("Cohort not found."), since only a
     * 'members' page creates the cohort there. Source: Flagsmith/flagsmith, api/cohorts/sync_views.py,
     * MixpanelCohortSyncView.post (a rule ported as a fact, not its code).
     */
    public void requireMembersFirst() {
        synchronized (lock) {
            membersFirst = true;
        }
    }

    /** The requests answered 404 "Cohort not found." by {@link #requireMembersFirst()}'s rule. */
    public List<Delivery> cohortNotFound() {
        synchronized (lock) {
            return List.copyOf(cohortNotFound);
        }
    }

    /** Every request received, in arrival order. */
    public List<Delivery> deliveries() {
        synchronized (lock) {
            return List.copyOf(deliveries);
        }
    }

    /** The requests this receiver accepted (answered 2xx with status success). */
    public List<Delivery> accepted() {
        return deliveries().stream().filter(Delivery::accepted).toList();
    }

    public int requestCount() {
        synchronized (lock) {
            return deliveries.size();
        }
    }

    /** Everything that did not match the documented request shape; tests expect none. */
    public List<String> violations() {
        synchronized (lock) {
            return List.copyOf(violations);
        }
    }

    /** The current members per cohort, from the accepted pages; cohorts without members are left out. */
    public Map<String, Set<String>> membership() {
        synchronized (lock) {
            Map<String, Set<String>> copy = new TreeMap<>();
            membership.forEach((cohort, users) -> {
                if (!users.isEmpty()) {
                    copy.put(cohort, new TreeSet<>(users));
                }
            });
            return copy;
        }
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
     * Problems with the page sequences of the accepted requests: per session and action, pages 1..total_pages each
     * accepted exactly once, one total_pages and one cohort, one Idempotency-Key per page; and a retried page (same
     * Idempotency-Key) sent with the same body every time. Meaningful once every sync was delivered.
     */
    public List<String> pagingProblems() {
        List<String> problems = new ArrayList<>();
        List<Delivery> all = deliveries();
        Map<String, List<Delivery>> byKey = all.stream().filter(d -> d.idempotencyKey() != null)
                .collect(Collectors.groupingBy(Delivery::idempotencyKey, LinkedHashMap::new, Collectors.toList()));
        byKey.forEach((key, sends) -> {
            if (sends.stream().map(Delivery::body).distinct().count() > 1) {
                problems.add("Idempotency-Key " + key + " was sent with different bodies");
            }
        });
        Map<String, List<Delivery>> groups = all.stream().filter(Delivery::accepted)
                .collect(Collectors.groupingBy(d -> d.sessionId() + "/" + d.action(), LinkedHashMap::new,
                        Collectors.toList()));
        groups.forEach((group, pages) -> {
            Set<String> cohorts = pages.stream().map(Delivery::cohortId).collect(Collectors.toSet());
            Set<Integer> totals = pages.stream().map(Delivery::totalPages).collect(Collectors.toSet());
            if (cohorts.size() != 1) {
                problems.add("session/action " + group + " spans cohorts " + cohorts);
            }
            if (totals.size() != 1) {
                problems.add("session/action " + group + " has different total_pages " + totals);
                return;
            }
            int total = totals.iterator().next();
            List<Integer> counts = pages.stream().map(Delivery::pageCount).sorted().toList();
            List<Integer> wanted = IntStream.rangeClosed(1, total).boxed().toList();
            if (!counts.equals(wanted)) {
                problems.add("session/action " + group + " accepted page_count " + counts + ", expected " + wanted);
            }
            long keys = pages.stream().map(Delivery::idempotencyKey).distinct().count();
            if (keys != pages.size()) {
                problems.add("session/action " + group + " has " + pages.size() + " accepted pages but " + keys
                        + " Idempotency-Keys");
            }
        });
        return problems;
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (Exception e) {
            // best effort
        }
    }

    /** One request as received, with the reply it got. */
    public record Delivery(int index, String method, String path, String contentType, String idempotencyKey,
                           String authorization, JsonNode body, int replyCode, boolean accepted,
                           long receivedNanos) {

        public String action() {
            return text(body == null ? null : body.get("action"));
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
                    answer.putObject("error").put("message", failureMessage).put("code", failureCode);
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

    private final class Handler extends Dispatcher {
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
            synchronized (lock) {
                int index = deliveries.size();
                List<String> problems = new ArrayList<>();
                if (parseError != null) {
                    problems.add("body is not JSON: " + parseError);
                }
                validate(request, body, problems);
                String cohortId = body != null && body.path("parameters").path("mixpanel_cohort_id").isTextual()
                        ? body.path("parameters").path("mixpanel_cohort_id").asText() : null;
                // Flagsmith's MixpanelCohortSyncView: a diff of a cohort no 'members' page created is a 404.
                boolean notFound = membersFirst && ("add_members".equals(action) || "remove_members".equals(action))
                        && !receivedAsMembers.contains(cohortId);
                Reply reply = notFound ? Reply.httpStatus(404).withBody("{\"action\":\"" + action
                        + "\",\"status\":\"failure\",\"error\":{\"message\":\"Cohort not found.\",\"code\":404}}")
                        : script.isEmpty() ? defaultReply : script.poll();
                boolean accepted = reply.accepts();
                Delivery delivery = new Delivery(index, request.getMethod(), request.getUrl().encodedPath(),
                        request.getHeaders().get("Content-Type"), request.getHeaders().get("Idempotency-Key"),
                        request.getHeaders().get("Authorization"), body, reply.code, accepted, System.nanoTime());
                deliveries.add(delivery);
                if (notFound) {
                    cohortNotFound.add(delivery);
                }
                problems.forEach(p -> violations.add("request #" + index + " (" + action + " of cohort "
                        + delivery.cohortId() + "): " + p));
                if (accepted && body != null) {
                    apply(delivery);
                }
                return reply.toResponse(action);
            }
        }

        private void apply(Delivery delivery) {
            String cohort = delivery.cohortId();
            if (cohort == null || delivery.action() == null) {
                return;
            }
            Set<String> members = membership.computeIfAbsent(cohort, id -> new HashSet<>());
            switch (delivery.action()) {
                case "add_members" -> members.addAll(delivery.distinctIds());
                case "remove_members" -> delivery.distinctIds().forEach(members::remove);
                case "members" -> {
                    receivedAsMembers.add(cohort);
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
            if (members.isEmpty() || members.size() > MAX_MEMBERS_PER_PAGE) {
                problems.add("page has " + members.size() + " members, expected 1.." + MAX_MEMBERS_PER_PAGE);
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
    }

    /** For assertions' messages. */
    @Override
    public String toString() {
        return "WebhookReceiver[" + url() + ", " + requestCount() + " requests, membership sizes "
                + membership().entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
                        e -> e.getValue().size(), (a, b) -> a, TreeMap::new)) + "]";
    }
}
