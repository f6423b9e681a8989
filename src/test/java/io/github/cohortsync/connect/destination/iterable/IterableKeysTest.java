package io.github.cohortsync.connect.destination.iterable;

import static io.github.cohortsync.connect.ValidationErrors.keyErrors;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.config.CohortSyncConfig;

class IterableKeysTest {

    private static Map<String, String> iterable() {
        Map<String, String> props = new HashMap<>();
        props.put("destination", "iterable");
        props.put("iterable.api.key", "it-s3cret");
        return props;
    }

    @Test
    void aMinimalIterableConfigIsValidAndTakesTheDocumentedDefaults() {
        assertThat(keyErrors(iterable())).isEmpty();
        CohortSyncConfig config = new CohortSyncConfig(iterable());

        assertThat(config.destination()).isInstanceOf(IterableProvider.class);
        assertThat(config.batchMaxSize()).isEqualTo(1000);
        assertThat(config.getString(IterableKeys.REGION)).isEqualTo("us");
        assertThat(config.getString(IterableKeys.LIST_NAME_TEMPLATE)).isEqualTo("mixpanel_${cohort_name}_${cohort_id}");
        assertThat(config.getString(IterableKeys.ENDPOINT)).isNull();
    }

    @Test
    void theApiKeyIsRequiredOnlyForIterable() {
        Map<String, String> props = iterable();
        props.remove("iterable.api.key");
        assertThat(keyErrors(props).get("iterable.api.key")).singleElement().asString()
                .contains("iterable.api.key is required when destination=iterable");
        assertThat(keyErrors(Map.of("destination", "segment", "segment.write.key", "k"))).isEmpty();
    }

    @Test
    void anUnknownRegionListsTheValidOnes() {
        Map<String, String> props = iterable();
        props.put("iterable.region", "asia");
        assertThat(keyErrors(props).get("iterable.region")).singleElement().asString().contains("us, eu");
    }

    @Test
    void templatesWithUnknownPlaceholdersAreRejected() {
        Map<String, String> props = iterable();
        props.put("iterable.list.name.template", "mp_${name}");
        assertThat(keyErrors(props).get("iterable.list.name.template")).singleElement().asString()
                .contains("unknown placeholders [name]");
    }

    @Test
    void theBatchSizeIsCappedAtOneThousandAndTheKeyIsAPassword() {
        Map<String, String> props = iterable();
        props.put("batch.max.size", "5000");
        assertThat(keyErrors(props).get("batch.max.size")).singleElement().asString()
                .contains("iterable accepts at most 1000 members per call");
        assertThat(CohortSyncConfig.CONFIG_DEF.configKeys().get("iterable.api.key").type)
                .isEqualTo(ConfigDef.Type.PASSWORD);
        assertThat(new CohortSyncConfig(iterable()).toString()).doesNotContain("it-s3cret");
    }
}
