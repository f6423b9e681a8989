package io.github.cohortsync.connect.destination.mailchimp;

import static io.github.cohortsync.connect.ValidationErrors.keyErrors;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.config.CohortSyncConfig;

class MailchimpKeysTest {

    private static Map<String, String> mailchimp() {
        Map<String, String> props = new HashMap<>();
        props.put("destination", "mailchimp");
        props.put("mailchimp.api.key", "0123abcd-us21");
        props.put("mailchimp.list.id", "a1b2c3d4e5");
        return props;
    }

    @Test
    void aMinimalMailchimpConfigIsValidAndTakesTheDocumentedDefaults() {
        assertThat(keyErrors(mailchimp())).isEmpty();
        CohortSyncConfig config = new CohortSyncConfig(mailchimp());

        assertThat(config.destination()).isInstanceOf(MailchimpProvider.class);
        assertThat(config.batchMaxSize()).isEqualTo(500);
        assertThat(config.getString(MailchimpKeys.SEGMENT_NAME_TEMPLATE)).isEqualTo("Mixpanel - ${cohort_name}");
        assertThat(config.getString(MailchimpKeys.ENDPOINT)).isNull();
        assertThat(config.getBoolean(MailchimpKeys.UPSERT_MEMBERS)).isFalse();
        assertThat(config.getString(MailchimpKeys.UPSERT_STATUS)).isEqualTo("transactional");
        assertThat(config.getBoolean(MailchimpKeys.SNAPSHOT_MIRROR)).isTrue();
    }

    @Test
    void newContactsTakeOnlyAStatusThatMakesSenseForAnAddition() {
        Map<String, String> props = mailchimp();
        props.put("mailchimp.upsert.members", "true");
        props.put("mailchimp.upsert.status", "Subscribed");
        assertThat(keyErrors(props)).isEmpty();
        props.put("mailchimp.upsert.status", "unsubscribed");
        assertThat(keyErrors(props).get("mailchimp.upsert.status")).singleElement().asString()
                .contains("must be one of: transactional, subscribed, pending");
        props.put("mailchimp.upsert.members", "maybe");
        assertThat(keyErrors(props).get("mailchimp.upsert.members")).singleElement().asString()
                .contains("Expected value to be either true or false");
    }

    @Test
    void theDataCentreComesFromTheKeysSuffix() {
        assertThat(MailchimpKeys.host("0123abcd-us21")).isEqualTo("https://us21.api.mailchimp.com");
        assertThat(MailchimpKeys.host("0123-abcd-us6 ")).isEqualTo("https://us6.api.mailchimp.com");
        assertThat(MailchimpKeys.host("0123abcd")).isNull();
        assertThat(MailchimpKeys.host("0123abcd-")).isNull();
    }

    @Test
    void aKeyWithoutADataCentreIsRejectedUnlessAnEndpointIsSet() {
        Map<String, String> props = mailchimp();
        props.put("mailchimp.api.key", "0123abcd");
        assertThat(keyErrors(props).get("mailchimp.api.key")).singleElement().asString()
                .contains("does not end in a data centre (e.g. -us21)").doesNotContain("0123abcd");
        props.put("mailchimp.endpoint", "http://127.0.0.1:9/");
        assertThat(keyErrors(props)).isEmpty();
    }

    @Test
    void theKeyAndTheListIdAreRequiredOnlyForMailchimp() {
        Map<String, String> props = mailchimp();
        props.remove("mailchimp.api.key");
        props.remove("mailchimp.list.id");
        assertThat(keyErrors(props).get("mailchimp.api.key")).singleElement().asString()
                .contains("mailchimp.api.key is required when destination=mailchimp");
        assertThat(keyErrors(props).get("mailchimp.list.id")).singleElement().asString()
                .contains("mailchimp.list.id is required when destination=mailchimp");
        assertThat(keyErrors(Map.of("destination", "segment", "segment.write.key", "k"))).isEmpty();
    }

    @Test
    void templatesWithUnknownPlaceholdersAreRejected() {
        Map<String, String> props = mailchimp();
        props.put("mailchimp.segment.name.template", "mp_${name}");
        assertThat(keyErrors(props).get("mailchimp.segment.name.template")).singleElement().asString()
                .contains("unknown placeholders [name]");
    }

    @Test
    void theBatchSizeIsCappedAtFiveHundredAndTheKeyIsAPassword() {
        Map<String, String> props = mailchimp();
        props.put("batch.max.size", "501");
        assertThat(keyErrors(props).get("batch.max.size")).singleElement().asString()
                .contains("mailchimp accepts at most 500 members per call");
        assertThat(CohortSyncConfig.CONFIG_DEF.configKeys().get("mailchimp.api.key").type)
                .isEqualTo(ConfigDef.Type.PASSWORD);
        assertThat(new CohortSyncConfig(mailchimp()).toString()).doesNotContain("0123abcd-us21");
    }

    @Test
    void theConfiguredDestinationTalksToTheKeysDataCentre() {
        MailchimpDestination destination = new MailchimpDestination(new CohortSyncConfig(mailchimp()));
        destination.close();
        assertThat(MailchimpKeys.dataCentre("0123abcd-us21")).isEqualTo("us21");
    }
}
