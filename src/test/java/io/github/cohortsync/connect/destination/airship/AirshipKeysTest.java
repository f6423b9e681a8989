package io.github.cohortsync.connect.destination.airship;

import static io.github.cohortsync.connect.ValidationErrors.keyErrors;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.config.CohortSyncConfig;

class AirshipKeysTest {

    private static Map<String, String> airship() {
        Map<String, String> props = new HashMap<>();
        props.put("destination", "airship");
        props.put("airship.token", "MTpzM2NyZXQtdG9rZW4");
        return props;
    }

    @Test
    void aMinimalAirshipConfigIsValidAndTakesTheDocumentedDefaults() {
        assertThat(keyErrors(airship())).isEmpty();
        CohortSyncConfig config = new CohortSyncConfig(airship());

        assertThat(config.destination()).isInstanceOf(AirshipProvider.class);
        assertThat(config.batchMaxSize()).isEqualTo(1000);
        assertThat(config.getString(AirshipKeys.TAG_GROUP)).isEqualTo("mixpanel");
        assertThat(config.getString(AirshipKeys.TAG_NAME_TEMPLATE)).isEqualTo("${cohort_name}");
        assertThat(config.getString(AirshipKeys.NAMED_USER_PROPERTY)).isEqualTo("$airship_named_user");
        assertThat(config.getString(AirshipKeys.REGION)).isEqualTo("us");
        assertThat(AirshipKeys.HOSTS.host("us")).isEqualTo("https://go.urbanairship.com");
        assertThat(AirshipKeys.HOSTS.host("EU")).isEqualTo("https://go.airship.eu");
    }

    @Test
    void basicAuthNeedsTheAppKeyAndTheMasterSecret() {
        Map<String, String> props = airship();
        props.remove("airship.token");
        assertThat(keyErrors(props).get("airship.token")).singleElement().asString()
                .contains("airship.token is required when destination=airship, unless airship.app.key and"
                        + " airship.master.secret are set");
        props.put("airship.master.secret", "m4ster-s3cret");
        assertThat(keyErrors(props).get("airship.app.key")).singleElement().asString()
                .contains("airship.app.key is required with airship.master.secret").doesNotContain("m4ster");
        props.put("airship.app.key", "app-key-1");
        assertThat(keyErrors(props)).isEmpty();
    }

    @Test
    void aTokenAndAMasterSecretTogetherAreAmbiguous() {
        Map<String, String> props = airship();
        props.put("airship.app.key", "app-key-1");
        props.put("airship.master.secret", "m4ster-s3cret");
        assertThat(keyErrors(props).get("airship.master.secret")).singleElement().asString()
                .contains("airship.master.secret and airship.token are both set");
        props.remove("airship.master.secret");
        assertThat(keyErrors(props)).as("an app key goes with a token as X-UA-Appkey").isEmpty();
    }

    @Test
    void theRegionIsUsOrEu() {
        Map<String, String> props = airship();
        props.put("airship.region", "apac");
        assertThat(keyErrors(props).get("airship.region")).singleElement().asString()
                .contains("must be one of: us, eu");
    }

    @Test
    void theTagGroupIsAtMost128CharactersAndNotReserved() {
        Map<String, String> props = airship();
        props.put("airship.tag.group", "g".repeat(129));
        assertThat(keyErrors(props).get("airship.tag.group")).singleElement().asString()
                .contains("tag group names of 1-128 characters");
        props.put("airship.tag.group", "ua_cohorts");
        assertThat(keyErrors(props).get("airship.tag.group")).singleElement().asString()
                .contains("must not start with ua_");
        props.put("airship.tag.group", "");
        assertThat(keyErrors(props).get("airship.tag.group")).singleElement().asString()
                .contains("String must be non-empty");
    }

    @Test
    void templatesWithUnknownPlaceholdersAreRejected() {
        Map<String, String> props = airship();
        props.put("airship.tag.name.template", "mp_${name}");
        assertThat(keyErrors(props).get("airship.tag.name.template")).singleElement().asString()
                .contains("unknown placeholders [name]");
    }

    @Test
    void theEndpointMustBeAUrl() {
        Map<String, String> props = airship();
        props.put("airship.endpoint", "not a url");
        assertThat(keyErrors(props).get("airship.endpoint")).singleElement().asString().isNotBlank();
    }

    @Test
    void theBatchSizeIsCappedAtAThousandAndTheSecretsArePasswords() {
        Map<String, String> props = airship();
        props.put("batch.max.size", "1001");
        assertThat(keyErrors(props).get("batch.max.size")).singleElement().asString()
                .contains("airship accepts at most 1000 members per call");
        assertThat(CohortSyncConfig.CONFIG_DEF.configKeys().get("airship.token").type)
                .isEqualTo(ConfigDef.Type.PASSWORD);
        assertThat(CohortSyncConfig.CONFIG_DEF.configKeys().get("airship.master.secret").type)
                .isEqualTo(ConfigDef.Type.PASSWORD);
        assertThat(new CohortSyncConfig(airship()).toString()).doesNotContain("MTpzM2NyZXQtdG9rZW4");
    }

    @Test
    void theKeysAreRequiredOnlyForAirship() {
        assertThat(keyErrors(Map.of("destination", "segment", "segment.write.key", "k"))).isEmpty();
    }

    @Test
    void theConfiguredDestinationIsBuiltWithEitherAuth() {
        new AirshipDestination(new CohortSyncConfig(airship())).close();
        Map<String, String> props = airship();
        props.remove("airship.token");
        props.put("airship.app.key", "app-key-1");
        props.put("airship.master.secret", "m4ster-s3cret");
        props.put("airship.region", "eu");
        try (AirshipDestination destination = new AirshipDestination(new CohortSyncConfig(props))) {
            assertThat(destination.readsProperty("$airship_named_user")).isTrue();
            assertThat(destination.readsProperty("plan")).isFalse();
        }
    }
}
