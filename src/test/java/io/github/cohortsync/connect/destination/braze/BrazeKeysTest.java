package io.github.cohortsync.connect.destination.braze;

import static io.github.cohortsync.connect.ValidationErrors.keyErrors;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.config.CohortSyncConfig;

class BrazeKeysTest {

    private static Map<String, String> braze() {
        Map<String, String> props = new HashMap<>();
        props.put("destination", "braze");
        props.put("braze.api.key", "braze-s3cret");
        return props;
    }

    @Test
    void aMinimalConfigIsValidWithTheDocumentedDefaults() {
        assertThat(keyErrors(braze())).isEmpty();
        CohortSyncConfig config = new CohortSyncConfig(braze());
        assertThat(config.destination()).isInstanceOf(BrazeProvider.class);
        assertThat(config.getString(BrazeKeys.INSTANCE)).isEqualTo("US-01");
        assertThat(config.getString(BrazeKeys.MODE)).isEqualTo("attribute");
        assertThat(config.getString(BrazeKeys.ATTRIBUTE_NAME)).isEqualTo("mixpanel_cohorts");
        assertThat(config.getString(BrazeKeys.USER_ID_FIELD)).isEqualTo("$braze_external_id");
        assertThat(config.getBoolean(BrazeKeys.UPDATE_EXISTING_ONLY)).isTrue();
        assertThat(config.batchMaxSize()).isEqualTo(75);
    }

    @Test
    void theApiKeyIsRequiredOnlyForBraze() {
        Map<String, String> props = braze();
        props.remove("braze.api.key");
        assertThat(keyErrors(props).get("braze.api.key")).singleElement().asString()
                .contains("braze.api.key is required when destination=braze");

        Map<String, String> clevertap = new HashMap<>();
        clevertap.put("destination", "clevertap");
        clevertap.put("clevertap.account.id", "A");
        clevertap.put("clevertap.passcode", "P");
        assertThat(keyErrors(clevertap)).isEmpty();
    }

    @Test
    void anUnknownInstanceListsTheValidOnes() {
        Map<String, String> props = braze();
        props.put("braze.instance", "US-09");
        assertThat(keyErrors(props).get("braze.instance")).singleElement().asString()
                .contains("US-01, US-02, US-03, US-04, US-05, US-06, US-07, US-08, EU-01, EU-02, AU-01");

        props.put("braze.instance", "eu-02");
        assertThat(keyErrors(props)).isEmpty();
    }

    @Test
    void anAttributeNameThatIsAKeyOfTheAttributesObjectIsRefused() {
        for (String reserved : List.of("external_id", " _update_existing_only ", "email", "user_alias", "braze_id")) {
            Map<String, String> props = braze();
            props.put("braze.attribute.name", reserved);
            assertThat(keyErrors(props).get("braze.attribute.name")).as(reserved).singleElement().asString()
                    .contains("'" + reserved.trim() + "' is a key Braze reads");
        }
        Map<String, String> props = braze();
        props.put("braze.attribute.name", "external_ids");
        assertThat(keyErrors(props)).isEmpty();
        // The cohort import sends no attributes object: the name is not read there.
        Map<String, String> cohortImport = cohortImport();
        cohortImport.put("braze.attribute.name", "external_id");
        assertThat(keyErrors(cohortImport)).isEmpty();
    }

    @Test
    void anUnknownModeListsTheValidOnes() {
        Map<String, String> props = braze();
        props.put("braze.mode", "cohorts");
        assertThat(keyErrors(props).get("braze.mode")).singleElement().asString()
                .contains("attribute, cohort_import");
    }

    private static Map<String, String> cohortImport() {
        Map<String, String> props = new HashMap<>();
        props.put("destination", "braze");
        props.put("braze.mode", "cohort_import");
        props.put("braze.partner.name", "acme");
        props.put("braze.partner.api.key", "partner-s3cret");
        props.put("braze.data.import.key", "import-s3cret");
        return props;
    }

    @Test
    void cohortImportNeedsThePartnerKeysAndNotTheRestApiKey() {
        assertThat(keyErrors(cohortImport())).isEmpty();
        CohortSyncConfig config = new CohortSyncConfig(cohortImport());
        assertThat(config.batchMaxSize()).isEqualTo(1000);
        assertThat(io.github.cohortsync.connect.destination.Destinations.create(config, "c"))
                .isInstanceOf(BrazeCohortImport.class).satisfies(d -> ((BrazeCohortImport) d).close());

        for (String key : List.of("braze.partner.name", "braze.partner.api.key", "braze.data.import.key")) {
            Map<String, String> props = cohortImport();
            props.put(key, " ");
            assertThat(keyErrors(props).get(key)).as(key).singleElement().asString()
                    .isEqualTo(key + " is required when destination=braze and braze.mode=cohort_import");
        }
    }

    @Test
    void thePartnerNameMustBeAPathSegment() {
        Map<String, String> props = cohortImport();
        props.put("braze.partner.name", "acme/../users");
        assertThat(keyErrors(props).get("braze.partner.name")).singleElement().asString()
                .contains("letters, digits");
    }

    @Test
    void batchSizeIsAtMost1000InCohortImportMode() {
        Map<String, String> props = cohortImport();
        props.put("batch.max.size", "1000");
        assertThat(keyErrors(props)).isEmpty();
        props.put("batch.max.size", "1001");
        assertThat(keyErrors(props).get("batch.max.size")).singleElement().asString()
                .contains("braze accepts at most 1000 members per call");
    }

    @Test
    void batchSizeIsAtMost75() {
        Map<String, String> props = braze();
        props.put("batch.max.size", "76");
        assertThat(keyErrors(props).get("batch.max.size")).singleElement().asString()
                .contains("braze accepts at most 75 members per call");
    }

    @Test
    void secretsArePasswords() {
        for (String key : List.of("braze.api.key", "braze.partner.api.key", "braze.data.import.key")) {
            assertThat(CohortSyncConfig.CONFIG_DEF.configKeys().get(key).type).as(key)
                    .isEqualTo(ConfigDef.Type.PASSWORD);
        }
        assertThat(new CohortSyncConfig(braze()).toString()).doesNotContain("braze-s3cret");
    }
}
