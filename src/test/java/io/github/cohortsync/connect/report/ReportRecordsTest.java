package io.github.cohortsync.connect.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.destination.Rejection;
import io.github.cohortsync.connect.record.Action;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;

/** The report's key and value per outcome, and the personal-data rule. */
class ReportRecordsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final CohortRef COHORT = new CohortRef("42", "Power users", null, null);
    private static final MembershipChange ANNA = new MembershipChange(COHORT, "u-anna", Action.ADD,
            "anna@example.com", "Anna", "Berg", "+15550100", Map.of("plan", "pro"), 1_700_000_000_000L,
            "cohort-membership", 2, 17);
    private static final Page PAGE = new Page(COHORT, PageAction.ADD_MEMBERS, "s-1", 3, 4, List.of(ANNA));

    private final ReportRecords records = new ReportRecords("conn", "0", "webhook", false);

    private static JsonNode json(byte[] bytes) throws Exception {
        return JSON.readTree(bytes);
    }

    @Test
    void theKeyIsTheMemberInItsCohort() throws Exception {
        JsonNode key = json(records.key(MemberOutcome.nettedAway(ANNA, 0)));

        assertThat(key.toString()).isEqualTo("{\"cohort_id\":\"42\",\"distinct_id\":\"u-anna\"}");
    }

    @Test
    void aDeliveredMemberNamesItsPageAttemptsAndWhereItWasRead() throws Exception {
        JsonNode value = json(records.value(MemberOutcome.sent(ANNA, PAGE, 2, false, 1_700_000_001_000L)));

        assertThat(value.path("outcome").asText()).isEqualTo("delivered");
        assertThat(value.path("cohort_name").asText()).isEqualTo("Power users");
        assertThat(value.path("action").asText()).isEqualTo("add");
        assertThat(value.path("destination").asText()).isEqualTo("webhook");
        assertThat(value.path("page_action").asText()).isEqualTo("add_members");
        assertThat(value.path("session_id").asText()).isEqualTo("s-1");
        assertThat(value.path("page").asInt()).isEqualTo(3);
        assertThat(value.path("total_pages").asInt()).isEqualTo(4);
        assertThat(value.path("attempts").asInt()).isEqualTo(2);
        assertThat(value.path("topic").asText()).isEqualTo("cohort-membership");
        assertThat(value.path("partition").asInt()).isEqualTo(2);
        assertThat(value.path("offset").asLong()).isEqualTo(17);
        assertThat(value.path("change_time").asText()).isEqualTo("2023-11-14T22:13:20Z");
        assertThat(value.path("decided_time").asText()).isEqualTo("2023-11-14T22:13:21Z");
        assertThat(value.path("reason").isNull()).isTrue();
    }

    @Test
    void aRejectionCarriesTheReasonAndTheDestinationsCode() throws Exception {
        JsonNode value = json(records.value(MemberOutcome.rejected(new Rejection(ANNA, "invalid id", "422"), PAGE,
                1, 0)));

        assertThat(value.path("outcome").asText()).isEqualTo("rejected");
        assertThat(value.path("reason").asText()).isEqualTo("invalid id");
        assertThat(value.path("code").asText()).isEqualTo("422");
    }

    @Test
    void changesNeverSentHaveNoPage() throws Exception {
        JsonNode netted = json(records.value(MemberOutcome.nettedAway(ANNA, 0)));
        JsonNode skipped = json(records.value(MemberOutcome.skipped(ANNA, 0)));

        assertThat(netted.path("outcome").asText()).isEqualTo("netted_away");
        assertThat(skipped.path("outcome").asText()).isEqualTo("skipped_already_delivered");
        assertThat(netted.path("session_id").isNull()).isTrue();
        assertThat(skipped.path("page").isNull()).isTrue();
        assertThat(skipped.path("attempts").asInt()).isZero();
    }

    @Test
    void aDryRunIsReportedAsSuch() throws Exception {
        assertThat(json(records.value(MemberOutcome.sent(ANNA, PAGE, 1, true, 0))).path("outcome").asText())
                .isEqualTo("dry_run");
    }

    @Test
    void personalDataIsLeftOutByDefault() {
        String value = new String(records.value(MemberOutcome.sent(ANNA, PAGE, 1, false, 0)));

        assertThat(value).doesNotContain("anna@example.com", "+15550100", "Anna", "Berg", "pro", "email");
    }

    @Test
    void personalDataIsIncludedOnlyWhenAskedFor() throws Exception {
        JsonNode value = json(new ReportRecords("conn", "0", "webhook", true)
                .value(MemberOutcome.sent(ANNA, PAGE, 1, false, 0)));

        assertThat(value.path("email").asText()).isEqualTo("anna@example.com");
        assertThat(value.path("phone_number").asText()).isEqualTo("+15550100");
        assertThat(value.path("first_name").asText()).isEqualTo("Anna");
        assertThat(value.path("properties").path("plan").asText()).isEqualTo("pro");
    }
}
