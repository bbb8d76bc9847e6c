/* lk-status-page.c — see lk-status-page.h. */
#include "config.h"

#include "lk-status-page.h"

struct _LkStatusPage
{
  GtkBox      parent_instance;

  /* Template widgets */
  GtkImage   *icon;
  GtkSpinner *spinner;
  GtkLabel   *title_label;
  GtkLabel   *description_label;
};

G_DEFINE_FINAL_TYPE (LkStatusPage, lk_status_page, GTK_TYPE_BOX)

enum {
  PROP_0,
  PROP_ICON_NAME,
  PROP_TITLE,
  PROP_DESCRIPTION,
  PROP_SPINNING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
lk_status_page_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), LK_TYPE_STATUS_PAGE);
  G_OBJECT_CLASS (lk_status_page_parent_class)->dispose (object);
}

static void
lk_status_page_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  LkStatusPage *self = LK_STATUS_PAGE (object);

  switch (prop_id)
    {
    case PROP_ICON_NAME:
      g_value_set_string (value, gtk_image_get_icon_name (self->icon));
      break;
    case PROP_TITLE:
      g_value_set_string (value, lk_status_page_get_title (self));
      break;
    case PROP_DESCRIPTION:
      g_value_set_string (value, lk_status_page_get_description (self));
      break;
    case PROP_SPINNING:
      g_value_set_boolean (value, gtk_widget_get_visible (GTK_WIDGET (self->spinner)));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_status_page_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  LkStatusPage *self = LK_STATUS_PAGE (object);

  switch (prop_id)
    {
    case PROP_ICON_NAME:
      lk_status_page_set_icon_name (self, g_value_get_string (value));
      break;
    case PROP_TITLE:
      lk_status_page_set_title (self, g_value_get_string (value));
      break;
    case PROP_DESCRIPTION:
      lk_status_page_set_description (self, g_value_get_string (value));
      break;
    case PROP_SPINNING:
      lk_status_page_set_spinning (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_status_page_class_init (LkStatusPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lk_status_page_dispose;
  object_class->get_property = lk_status_page_get_property;
  object_class->set_property = lk_status_page_set_property;

  properties[PROP_ICON_NAME] =
    g_param_spec_string ("icon-name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_DESCRIPTION] =
    g_param_spec_string ("description", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SPINNING] =
    g_param_spec_boolean ("spinning", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/app/likeness/Likeness/lk-status-page.ui");
  gtk_widget_class_bind_template_child (widget_class, LkStatusPage, icon);
  gtk_widget_class_bind_template_child (widget_class, LkStatusPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, LkStatusPage, title_label);
  gtk_widget_class_bind_template_child (widget_class, LkStatusPage, description_label);
  gtk_widget_class_set_css_name (widget_class, "statuspage");
}

static void
lk_status_page_init (LkStatusPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
lk_status_page_new (void)
{
  return g_object_new (LK_TYPE_STATUS_PAGE, NULL);
}

void
lk_status_page_set_icon_name (LkStatusPage *self, const char *icon_name)
{
  g_return_if_fail (LK_IS_STATUS_PAGE (self));

  gtk_image_set_from_icon_name (self->icon, icon_name);
  gtk_widget_set_visible (GTK_WIDGET (self->icon),
                          icon_name != NULL && !gtk_widget_get_visible (GTK_WIDGET (self->spinner)));
}

void
lk_status_page_set_title (LkStatusPage *self, const char *title)
{
  g_return_if_fail (LK_IS_STATUS_PAGE (self));

  gtk_label_set_label (self->title_label, title);
  gtk_widget_set_visible (GTK_WIDGET (self->title_label), title != NULL && *title != '\0');
}

const char *
lk_status_page_get_title (LkStatusPage *self)
{
  g_return_val_if_fail (LK_IS_STATUS_PAGE (self), NULL);
  return gtk_label_get_label (self->title_label);
}

void
lk_status_page_set_description (LkStatusPage *self, const char *description)
{
  g_return_if_fail (LK_IS_STATUS_PAGE (self));

  gtk_label_set_label (self->description_label, description);
  gtk_widget_set_visible (GTK_WIDGET (self->description_label),
                          description != NULL && *description != '\0');
}

const char *
lk_status_page_get_description (LkStatusPage *self)
{
  g_return_val_if_fail (LK_IS_STATUS_PAGE (self), NULL);
  return gtk_label_get_label (self->description_label);
}

void
lk_status_page_set_spinning (LkStatusPage *self, gboolean spinning)
{
  g_return_if_fail (LK_IS_STATUS_PAGE (self));

  gtk_widget_set_visible (GTK_WIDGET (self->spinner), spinning);
  gtk_spinner_set_spinning (self->spinner, spinning);
  gtk_widget_set_visible (GTK_WIDGET (self->icon),
                          !spinning && gtk_image_get_icon_name (self->icon) != NULL);
}
