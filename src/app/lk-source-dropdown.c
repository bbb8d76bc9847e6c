/* lk-source-dropdown.c — see lk-source-dropdown.h. The names ride along
 * with the list of labels, as data of the GtkStringList. */
#include "config.h"

#include <glib/gi18n.h>

#include "lk-source-dropdown.h"

#define NAMES_KEY "lk-source-names"

static GStrv
names_of (GtkDropDown *dropdown)
{
  GListModel *model = gtk_drop_down_get_model (dropdown);
  return model != NULL ? g_object_get_data (G_OBJECT (model), NAMES_KEY) : NULL;
}

static guint
position_of (GStrv names, const char *name)
{
  for (guint i = 0; names != NULL && name != NULL && names[i] != NULL; i++)
    if (g_str_equal (names[i], name))
      return i;
  return GTK_INVALID_LIST_POSITION;
}

static char *
label_for (const LkEmbeddingSource *s)
{
  if (s->stale)
    /* TRANSLATORS: a source whose stored rows were made from other images */
    return g_strdup_printf (_("%s (out of date)"), s->label);
  return g_strdup (s->label);
}

void
lk_source_dropdown_fill (GtkDropDown *dropdown, LkSearchService *service, const char *name,
                         const char *fallback)
{
  GPtrArray *sources = lk_search_service_get_sources (service);
  g_autoptr(GStrvBuilder) names = g_strv_builder_new ();
  g_autoptr(GtkStringList) labels = gtk_string_list_new (NULL);
  GStrv list;
  guint position;

  for (guint i = 0; i < sources->len; i++)
    {
      const LkEmbeddingSource *s = sources->pdata[i];
      g_autofree char *label = label_for (s);
      g_strv_builder_add (names, s->name);
      gtk_string_list_append (labels, label);
    }
  list = g_strv_builder_end (names);
  g_object_set_data_full (G_OBJECT (labels), NAMES_KEY, list, (GDestroyNotify) g_strfreev);

  position = position_of (list, name);
  if (position == GTK_INVALID_LIST_POSITION)
    position = position_of (list, fallback);
  if (position == GTK_INVALID_LIST_POSITION && sources->len > 0)
    position = 0;

  g_object_freeze_notify (G_OBJECT (dropdown));
  gtk_drop_down_set_model (dropdown, G_LIST_MODEL (labels));
  gtk_drop_down_set_selected (dropdown, position);
  g_object_thaw_notify (G_OBJECT (dropdown));
}

const char *
lk_source_dropdown_get_name (GtkDropDown *dropdown)
{
  GStrv names = names_of (dropdown);
  guint selected = gtk_drop_down_get_selected (dropdown);

  if (names == NULL || selected == GTK_INVALID_LIST_POSITION || selected >= g_strv_length (names))
    return NULL;
  return names[selected];
}

gboolean
lk_source_dropdown_select (GtkDropDown *dropdown, const char *name)
{
  guint position = position_of (names_of (dropdown), name);

  if (position == GTK_INVALID_LIST_POSITION)
    return FALSE;
  gtk_drop_down_set_selected (dropdown, position);
  return TRUE;
}
