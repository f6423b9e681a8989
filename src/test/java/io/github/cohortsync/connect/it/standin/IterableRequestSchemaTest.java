package io.github.cohortsync.connect.it.standin;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The schema the Iterable stand-in checks bodies with accepts what the Swagger allows and refuses the rest. */
class IterableRequestSchemaTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }

    @Test
    void acceptsTheBodiesTheSwaggerDescribes() throws Exception {
        assertThat(IterableRequestSchema.SUBSCRIBE.violations(json("""
                {"listId": 42, "subscribers": [{"email": "a@example.com"}, {"userId": "u1", "preferUserId": true}]}
                """))).isEmpty();
        assertThat(IterableRequestSchema.UNSUBSCRIBE.violations(json("""
                {"listId": 42, "subscribers": [{"email": "a@example.com"}, {"userId": "u1"}]}"""))).isEmpty();
        assertThat(IterableRequestSchema.CREATE_LIST.violations(json("{\"name\": \"mixpanel_x_1\"}"))).isEmpty();
    }

    @Test
    void refusesWhatTheSwaggerOrOurRulesForbid() throws Exception {
        assertThat(IterableRequestSchema.SUBSCRIBE.violations(json("""
                {"listId": "42", "subscribers": [{"email": "a@example.com"}]}"""))).isNotEmpty();
        assertThat(IterableRequestSchema.SUBSCRIBE.violations(json("{\"listId\": 42}"))).isNotEmpty();
        assertThat(IterableRequestSchema.SUBSCRIBE.violations(json("""
                {"listId": 42, "subscribers": [{"email": "a@example.com", "userId": "u1"}]}"""))).isNotEmpty();
        assertThat(IterableRequestSchema.UNSUBSCRIBE.violations(json("""
                {"listId": 42, "subscribers": [{"userId": "u1", "preferUserId": true}]}"""))).isNotEmpty();
        assertThat(IterableRequestSchema.UNSUBSCRIBE.violations(json("""
                {"listId": 42, "subscribers": [{"userId": "u1"}], "channelUnsubscribe": true}"""))).isNotEmpty();
        assertThat(IterableRequestSchema.UNSUBSCRIBE.violations(json("""
                {"listId": 42, "subscribers": [{}]}"""))).isNotEmpty();
        assertThat(IterableRequestSchema.CREATE_LIST.violations(json("{\"name\": \"\"}"))).isNotEmpty();
    }
}
